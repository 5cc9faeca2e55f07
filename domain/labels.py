"""Labels of a project: value object and the rules a label set must keep."""

import hashlib
import re
from dataclasses import dataclass
from uuid import UUID

from domain.errors import ConflictingStateError, InvalidValueError

COLOR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_LABEL_NAME = 50


class DuplicateLabelError(ConflictingStateError):
    """Raised when two labels of a project would share a name or a hotkey."""


class TooFewLabelsError(ConflictingStateError):
    """Raised when a change would leave a project with fewer labels than its task needs."""


class UnknownLabelError(InvalidValueError):
    """Raised when a label id is not one of the project's labels."""


@dataclass(frozen=True)
class Label:
    """A label of a project: stable id, unique name and hotkey, display colour."""

    id: UUID
    name: str
    color: str
    hotkey: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"id": str(self.id), "name": self.name, "color": self.color, "hotkey": self.hotkey}


def check_label_name(name: str, field: str = "name") -> str:
    """Return the trimmed name, or raise when it is empty or too long."""
    trimmed = name.strip()
    if not 1 <= len(trimmed) <= MAX_LABEL_NAME:
        raise InvalidValueError(f"A label name must have 1 to {MAX_LABEL_NAME} characters.", field=field)
    return trimmed


def check_color(color: str, field: str = "color") -> str:
    if not COLOR_PATTERN.match(color):
        raise InvalidValueError(f"Colour '{color}' is not of the form #RRGGBB.", field=field)
    return color.upper()


def generated_color(name: str) -> str:
    """A stable, readable colour derived from the label name."""
    digest = hashlib.sha256(name.encode()).digest()
    r, g, b = (64 + digest[i] % 160 for i in range(3))
    return f"#{r:02X}{g:02X}{b:02X}"


def check_label_set(labels: list[Label], minimum: int) -> None:
    """Names and hotkeys are unique (case-insensitively) and there are enough labels."""
    names: set[str] = set()
    hotkeys: set[str] = set()
    for label in labels:
        key = label.name.casefold()
        if key in names:
            raise DuplicateLabelError(f"Two labels would be named '{label.name}'.", field="labels")
        names.add(key)
        if label.hotkey:
            hotkey = label.hotkey.casefold()
            if hotkey in hotkeys:
                raise DuplicateLabelError(f"Two labels would use the hotkey '{label.hotkey}'.", field="labels")
            hotkeys.add(hotkey)
    if len(labels) < minimum:
        raise TooFewLabelsError(f"This project needs at least {minimum} label(s).", field="labels")
