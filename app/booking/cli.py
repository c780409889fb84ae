"""`flask booking seed-calendar`: fill the city-wide holiday calendar from `chinesecalendar`.

The package knows the State Council's announced years only (none beyond 2026); later years are
entered by an admin at /admin/booking. It is pinned in requirements.txt, and only this command
uses it.
"""

import click
from chinese_calendar import constants
from sqlalchemy import select

from app.booking import bp
from app.catalog.workdays import CalendarDay
from app.extensions import db

NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
         "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
         "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


@bp.cli.command("seed-calendar")
@click.option("--year", type=int, multiple=True, help="Only these years (default: all it knows).")
def seed_calendar(year: tuple[int, ...]):
    """Add city-wide holidays and swapped workdays (调休); existing rows are left alone."""
    have = {row.day for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.hall_id.is_(None)))}
    added = 0
    for table, is_workday in ((constants.holidays, False), (constants.workdays, True)):
        for day, name in sorted(table.items()):
            if (year and day.year not in year) or day in have:
                continue
            label = NAMES.get(str(name), str(name))
            db.session.add(CalendarDay(hall_id=None, day=day, is_workday=is_workday,
                                       name=label if not is_workday else f"{label}调休上班"))
            have.add(day)
            added += 1
    db.session.commit()
    click.echo(f"已添加 {added} 个节假日或调休日期。")
