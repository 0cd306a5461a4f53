"""Course platform: author notebooks once, release them with nbgrader, grade in an isolated judge."""

__version__ = "0.1.0"
