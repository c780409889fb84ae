"""The photo a citizen may add to a bad rating: checked, stored, compressed in the worker and
served to whoever may see the rating."""


from flask import current_app
from sqlalchemy import update

from app import jobs
from app.core.access import staff_scope_or_none
from app.extensions import db
from app.ratings.models import Rating
from app.ratings.rules import (
    RatingError,
)
from app.uploads.imaging import ImageRejected, compress, inspect_upload
from app.uploads.storage import get_storage


def check_photo(data: bytes) -> None:
    """Only a whole JPEG, PNG, WebP or HEIC photo within the limits (app/uploads/imaging.py)."""
    try:
        inspect_upload(data, max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    except ImageRejected as exc:
        raise RatingError(exc.message, 413 if exc.code == "too_large" else 400, "photo") from exc


def store_photo(rating: Rating, data: bytes) -> None:
    """Keep the original privately until the worker has made the served copy."""
    rating.photo_original = get_storage().save(data)
    jobs.enqueue("ratings.compress_photo", rating.id)


def compress_photo(rating_id: int) -> str:
    """The worker's part: a 1600 px copy without metadata; the original is then deleted."""
    rating = db.session.get(Rating, rating_id)
    if rating is None or not rating.photo_original:
        return "skipped"  # done already: safe to run twice
    storage, original = get_storage(), rating.photo_original
    try:
        result = compress(storage.open(original))
    except (ImageRejected, FileNotFoundError):
        rating.photo_original = None
        db.session.commit()
        storage.delete(original)
        return "failed"
    key = storage.save(result.image_bytes)
    done = db.session.execute(update(Rating).where(
        Rating.id == rating_id, Rating.photo_original == original).values(
        photo_path=key, photo_original=None))
    db.session.commit()
    if done.rowcount != 1:  # a concurrent run won: keep only its copy
        storage.delete(key)
        return "skipped"
    storage.delete(original)
    return "done"


def photo_for(rating_id: int, user) -> bytes:
    """The served copy, for the person who rated and the staff of the hall only."""
    rating = db.session.get(Rating, rating_id)
    if rating is None or not rating.photo_path or not user.is_authenticated:
        raise RatingError("没有找到这张照片。", 404)
    staff = staff_scope_or_none()
    if staff is not None:
        staff.read(rating.invite.hall_id)  # another hall's is refused (403)
    elif rating.invite.citizen_id != user.id:
        raise RatingError("没有找到这张照片。", 404)
    return get_storage().open(rating.photo_path)
