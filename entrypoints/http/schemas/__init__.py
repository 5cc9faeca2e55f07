"""marshmallow schemas of every request body (and the documented response shapes)."""
