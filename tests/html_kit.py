"""Reading a page as HTML in tests: say which element holds the text, not just that the text is
somewhere on the page (issue 18, point 10). Every helper takes a test-client response (or HTML)."""

from bs4 import BeautifulSoup, Tag


def soup(response) -> BeautifulSoup:
    """The parsed page."""
    html = response if isinstance(response, str) else response.get_data(as_text=True)
    return BeautifulSoup(html, "html.parser")


def _clean(text: str) -> str:
    return " ".join(text.split())


def one(response, css: str) -> Tag:
    """The one element matching css (fails if there is none or more than one)."""
    found = soup(response).select(css)
    assert len(found) == 1, f"{len(found)} elements match {css!r}"
    return found[0]


def text_of(response, css: str) -> str:
    """The text of the one element matching css, spaces squeezed."""
    return _clean(one(response, css).get_text())


def texts(response, css: str) -> list[str]:
    """The texts of every element matching css, in page order, spaces squeezed."""
    return [_clean(tag.get_text()) for tag in soup(response).select(css)]


def link(response, text: str) -> Tag:
    """The first link whose text contains text (fails if there is none)."""
    for tag in soup(response).find_all("a"):
        if text in _clean(tag.get_text()):
            return tag
    raise AssertionError(f"no link reading {text!r}")


def hrefs(response) -> list[str]:
    """Where every link on the page goes."""
    return [tag["href"] for tag in soup(response).find_all("a", href=True)]


def button(response, text: str) -> Tag:
    """The first button (or submit input) whose text contains text (fails if there is none)."""
    for tag in soup(response).select("button, input[type=submit]"):
        label = tag.get("value", "") if tag.name == "input" else tag.get_text()
        if text in _clean(label):
            return tag
    raise AssertionError(f"no button reading {text!r}")


def field(response, name: str) -> Tag:
    """The first form field (input, select, textarea) named name."""
    tag = soup(response).find(["input", "select", "textarea"], attrs={"name": name})
    assert tag is not None, f"no field named {name!r}"
    return tag


def field_value(response, name: str) -> str:
    """What the field named name holds: an input's value, a textarea's text, a select's choice."""
    tag = field(response, name)
    if tag.name == "textarea":
        return tag.get_text()
    if tag.name == "select":
        chosen = tag.find("option", selected=True) or tag.find("option")
        return chosen.get("value", chosen.get_text()) if chosen else ""
    return tag.get("value", "")


ERRORS = ".error-card, .error-summary, .field-error, .notice-error"


def errors(response) -> str:
    """What the page says went wrong: its error card, error summary, notices of error and the
    errors beside fields, joined (the text checked must be in one of these, not elsewhere)."""
    return " | ".join(texts(response, ERRORS))


def values(response) -> list[str]:
    """What every form field on the page holds (inputs, textareas), in page order: for checking
    that what was typed is kept when the field's name does not matter to the test."""
    found = []
    for tag in soup(response).find_all(["input", "textarea"]):
        found.append(tag.get_text() if tag.name == "textarea" else tag.get("value", ""))
    return found
