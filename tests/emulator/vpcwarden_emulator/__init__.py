"""vpcwarden's extensions to moto server (see tests/emulator/README.md).

Everything here is applied at start-up by :func:`vpcwarden_emulator.patch.apply`;
nothing is imported for its side effects.
"""

__all__ = ["apply", "wrap_app"]


def apply() -> None:
    from .patch import apply as _apply

    _apply()


def wrap_app(app):  # type: ignore[no-untyped-def]
    from .middleware import VpcwardenMiddleware

    return VpcwardenMiddleware(app)
