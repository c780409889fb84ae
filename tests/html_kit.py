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


def has(response, css: str, text: str | None = None) -> bool:
    """Whether some element matches css (and, given text, has text in its squeezed text):
    `assert has(page, 'form[action="/login/verify"]')` fails when the form is missing."""
    return any(text is None or text in _clean(tag.get_text()) for tag in soup(response).select(css))


def count(response, css: str) -> int:
    """How many elements match css."""
    return len(soup(response).select(css))


def attrs(response, css: str) -> dict:
    """The attributes of the one element matching css (class as a list, as BeautifulSoup gives
    it); fails if there is none or more than one."""
    return dict(one(response, css).attrs)


def is_fragment(response) -> bool:
    """Whether the response is a fragment for htmx to swap in, not a whole page: it has no
    <html> (or <head>/<body>) element."""
    return soup(response).find(["html", "head", "body"]) is None


def page_text(response) -> str:
    """Everything the page says, spaces squeezed (markup gone): for text a reader sees,
    where no one element is the point."""
    return _clean(soup(response).get_text(" "))


def title(response) -> str:
    """The page's <title>, spaces squeezed (fails if there is none)."""
    tag = soup(response).find("title")
    assert tag is not None, "no <title>"
    return _clean(tag.get_text())


def terms(response) -> dict[str, str]:
    """Every <dt> of the page's description lists, by its text, with the text of the <dd> after
    it: what a check page shows for each label (a label shown twice keeps its last answer)."""
    found = {}
    for dt in soup(response).find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is not None:
            found[_clean(dt.get_text())] = _clean(dd.get_text())
    return found


TARGETS = ("href", "src", "action", "formaction", "hx-get", "hx-post")


def targets(response) -> list[str]:
    """Every address the page points at, in page order: links' and assets' href and src, forms'
    action and formaction, htmx's hx-get and hx-post (for "the page offers a way to X")."""
    found = []
    for tag in soup(response).find_all(True):
        found.extend(tag[name] for name in TARGETS if tag.has_attr(name))
    return found
