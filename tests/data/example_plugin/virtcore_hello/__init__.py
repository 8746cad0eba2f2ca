"""An example third-party virtcore backend: in-memory guests behind ``hello:///``."""
