"""What the mock answers with when no example or scenario says: bodies generated from schemas
(generator/) in the media type a request accepts (negotiator/)."""
