"""The API's request and response shapes (Pydantic lives here, at the edge), by area."""
