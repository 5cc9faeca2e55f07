"""YAML (de)serialisation of source and sink configs: safe, small, without aliases or tags."""

from typing import Any

import yaml

from application.errors import BadRequestError, PayloadTooLargeError

MAX_NODES = 1000


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases (alias bombs) and caps the number of nodes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise BadRequestError("YAML aliases are not allowed in a configuration file.")
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise BadRequestError("YAML anchors are not allowed in a configuration file.")
        self._nodes = getattr(self, "_nodes", 0) + 1
        if self._nodes > MAX_NODES:
            raise BadRequestError(f"The configuration file has more than {MAX_NODES} YAML nodes.")
        return super().compose_node(parent, index)


def load_config(data: bytes, max_bytes: int) -> dict[str, Any]:
    """A mapping read from YAML bytes, or a 4xx error saying what is wrong with them."""
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"A configuration file may have at most {max_bytes} bytes.")
    try:
        document = yaml.load(data.decode("utf-8"), Loader=_NoAliasLoader)  # noqa: S506 - safe subclass
    except UnicodeDecodeError:
        raise BadRequestError("The configuration file is not UTF-8 text.") from None
    except RecursionError:
        raise BadRequestError("The configuration file is nested too deeply.") from None
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise BadRequestError(f"The configuration file is not valid YAML: {problem}.") from None
    if not isinstance(document, dict):
        raise BadRequestError("The configuration file must hold a YAML mapping of settings.")
    return document


def dump_config(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
