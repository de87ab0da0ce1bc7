"""Reading requests as any OpenAPI 3.x spec describes them: parameter styles (deserializers.py),
body media types (bodies.py), the shape text is read into (shape.py), and the document as requests
and responses see it (views.py)."""
