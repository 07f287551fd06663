"""vpcwarden's extensions to moto server (see tests/emulator/README.md).

Everything here is applied at start-up by :func:`vpcwarden_emulator.patch.apply`;
nothing is imported for its side effects.
"""

__all__ = ["apply", "configure", "shutdown", "wrap_app"]


def apply() -> None:
    from .patch import apply as _apply

    _apply()


def wrap_app(app):  # type: ignore[no-untyped-def]
    from .middleware import VpcwardenMiddleware

    return VpcwardenMiddleware(app)


def configure(state_dir: str | None = None, url: str | None = None) -> None:
    """Where Lambda environments keep code and logs (``<state_dir>/lambda``), and the URL
    functions are given as ``AWS_ENDPOINT_URL``."""
    import os

    from .lambda_runtime import RUNTIME

    RUNTIME.configure(work_dir=os.path.join(state_dir, "lambda") if state_dir else None, endpoint_url=url)


def shutdown() -> None:
    """Stops every process the emulator started (Lambda execution environments)."""
    from .lambda_runtime import RUNTIME

    RUNTIME.shutdown()
