"""The plugin registry: one pluggy plugin manager for built-in and third-party drivers.

Built-in drivers (the test driver, host secondary drivers, ...) are plugin
modules registered through exactly the same manager and hooks as third-party
backends found under the ``virtcore`` entry-point group. Entry points are
loaded one by one: a plugin that fails to import, or whose hook raises, is
recorded as a :class:`PluginRecord` with its error and never hides the others.
``VIRTCORE_DISABLE_PLUGIN_AUTOLOAD=1`` turns entry-point discovery off (the
built-ins still load).

Probe order for connection drivers: plugins in registration order (built-ins
first, then entry points sorted by name for a stable order), each plugin's
drivers in the order it returns them, and every wildcard driver
(``schemes=None``) after all others.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from virtcore import hookspecs
from virtcore.driver import ConnectDriver

if TYPE_CHECKING:
    from virtcore.state import StateDriver

__all__ = [
    "AUTOLOAD_ENV",
    "BUILTIN_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PluginRecord",
    "Registry",
    "default_registry",
    "reset_default_registry",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "virtcore"
AUTOLOAD_ENV = "VIRTCORE_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("test", "virtcore.drivers.test.plugin"),
    ("storage", "virtcore.drivers.storage.plugin"),
)
"""``(name, module)`` of the built-in plugins, in registration (= probe) order."""


@dataclass
class PluginRecord:
    """What the registry knows about one plugin, loaded or not."""

    name: str
    source: str
    """``"builtin"``, ``"entrypoint"`` or ``"manual"``."""
    target: str
    """Module path (or repr) the plugin was loaded from."""
    distribution: str | None = None
    version: str | None = None
    error: str | None = None
    """One-line reason the plugin failed to load or answer, else ``None``."""
    traceback: str | None = None
    connect_drivers: list[ConnectDriver] = field(default_factory=list)
    state_driver_factories: list[Callable[[], StateDriver]] = field(default_factory=list)

    @property
    def loaded(self) -> bool:
        """True when the plugin imported and its hooks answered."""
        return self.error is None

    @property
    def schemes(self) -> list[str]:
        """URI schemes claimed by the plugin's connection drivers (``"*"`` = wildcard)."""
        out: list[str] = []
        for drv in self.connect_drivers:
            out.extend(drv.schemes if drv.schemes is not None else ("*",))
        return out


class Registry:
    """Plugin manager plus the load records ``virtcore backends`` reports.

    ``Registry()`` loads the built-ins and, unless disabled by argument or
    ``VIRTCORE_DISABLE_PLUGIN_AUTOLOAD=1``, every ``virtcore`` entry point.
    ``Registry(builtins=False, autoload=False)`` starts empty, for tests and
    embedders that register plugins by hand with :meth:`register`.
    """

    def __init__(
        self,
        *,
        builtins: bool = True,
        autoload: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._lock = threading.RLock()
        self._records: dict[str, PluginRecord] = {}
        if builtins:
            for name, module in BUILTIN_PLUGINS:
                self._load_module(name, module, source="builtin")
        if autoload is None:
            autoload = env.get(AUTOLOAD_ENV, "") in ("", "0")
        if autoload:
            self.load_entry_points()

    # -- loading -----------------------------------------------------------

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Load every entry point of *group* not loaded yet, one by one."""
        eps = sorted(metadata.entry_points(group=group), key=lambda ep: ep.name)
        for ep in eps:
            if ep.name in self._records:
                if self._records[ep.name].target != ep.value:
                    logger.warning(
                        "plugin %r from %s ignored: the name is taken by %s",
                        ep.name,
                        ep.value,
                        self._records[ep.name].target,
                    )
                continue
            dist = ep.dist
            record = PluginRecord(
                name=ep.name,
                source="entrypoint",
                target=ep.value,
                distribution=dist.name if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
            try:
                plugin = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                self._record_failure(record, exc, "failed to import")
                continue
            self._add(record, plugin)

    def register(self, plugin: object, name: str | None = None, *, source: str = "manual") -> str:
        """Register a plugin object or module by hand; returns its name."""
        if name is None:
            name = getattr(plugin, "__name__", None) or repr(plugin)
        if name in self._records:
            raise ValueError(f"a plugin named {name!r} is already registered")
        target = plugin.__name__ if isinstance(plugin, ModuleType) else repr(plugin)
        self._add(PluginRecord(name=name, source=source, target=target), plugin)
        return name

    def unregister(self, name: str) -> None:
        """Remove a plugin (its drivers stop being offered to new connections)."""
        with self._lock:
            record = self._records.pop(name, None)
            if record is not None and self._pm.get_plugin(name) is not None:
                self._pm.unregister(name=name)

    def _load_module(self, name: str, module: str, *, source: str) -> None:
        record = PluginRecord(name=name, source=source, target=module)
        try:
            plugin = importlib.import_module(module)
        except Exception as exc:
            self._record_failure(record, exc, "failed to import")
            return
        self._add(record, plugin)

    def _add(self, record: PluginRecord, plugin: object) -> None:
        with self._lock:
            self._records[record.name] = record
            try:
                self._pm.register(plugin, name=record.name)
            except Exception as exc:
                self._record_failure(record, exc, "failed to register")
                return
            self._collect(record, plugin)

    def _collect(self, record: PluginRecord, plugin: object) -> None:
        for impl in self._pm.hook.virtcore_connect_drivers.get_hookimpls():
            if impl.plugin is plugin:
                try:
                    answer: Any = impl.function()
                    drivers = list(answer or ())
                    for drv in drivers:
                        if not isinstance(drv, ConnectDriver):
                            raise TypeError(f"{drv!r} is not a ConnectDriver")
                except Exception as exc:
                    self._fail_registered(record, exc, "virtcore_connect_drivers failed")
                    return
                record.connect_drivers.extend(drivers)
        for impl in self._pm.hook.virtcore_state_drivers.get_hookimpls():
            if impl.plugin is plugin:
                try:
                    answer = impl.function()
                    factories = list(answer or ())
                    for factory in factories:
                        if not callable(factory):
                            raise TypeError(f"{factory!r} is not a state driver factory")
                except Exception as exc:
                    self._fail_registered(record, exc, "virtcore_state_drivers failed")
                    return
                record.state_driver_factories.extend(factories)

    def _fail_registered(self, record: PluginRecord, exc: BaseException, what: str) -> None:
        self._pm.unregister(name=record.name)
        record.connect_drivers.clear()
        record.state_driver_factories.clear()
        self._record_failure(record, exc, what)

    def _record_failure(self, record: PluginRecord, exc: BaseException, what: str) -> None:
        record.error = f"{what}: {type(exc).__name__}: {exc}"
        record.traceback = "".join(traceback.format_exception(exc))
        with self._lock:
            self._records[record.name] = record
        logger.warning("plugin %r (%s) %s", record.name, record.target, record.error)

    # -- queries -----------------------------------------------------------

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager (for plugins that define extra hooks)."""
        return self._pm

    def plugins(self) -> list[PluginRecord]:
        """Every plugin in registration order, including those that failed."""
        with self._lock:
            return list(self._records.values())

    def plugin(self, name: str) -> PluginRecord:
        """The record of one plugin; ``KeyError`` if unknown."""
        with self._lock:
            return self._records[name]

    def errors(self) -> list[PluginRecord]:
        """Plugins that failed to load."""
        return [r for r in self.plugins() if not r.loaded]

    def connect_drivers(self) -> list[ConnectDriver]:
        """Connection drivers in probe order: named-scheme drivers, then wildcards."""
        drivers = [d for r in self.plugins() if r.loaded for d in r.connect_drivers]
        return [d for d in drivers if d.schemes is not None] + [
            d for d in drivers if d.schemes is None
        ]

    def state_driver_factories(self) -> list[Callable[[], StateDriver]]:
        """State driver factories in registration order."""
        return [f for r in self.plugins() if r.loaded for f in r.state_driver_factories]

    def has_scheme(self, scheme: str) -> bool:
        """Whether a loaded driver names *scheme* (libvirt's virHasDriverForURIScheme)."""
        return any(d.schemes is not None and scheme in d.schemes for d in self.connect_drivers())

    def call_hook(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call a hook on every plugin, for plugin-defined extension hooks."""
        caller = getattr(self._pm.hook, hook)
        result: list[Any] = caller(**kwargs)
        return result


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry, created (and plugins loaded) on first use."""
    global _default  # noqa: PLW0603 - process-wide singleton by design
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


def reset_default_registry(registry: Registry | None = None) -> None:
    """Replace (or with ``None``, drop) the process-wide registry; for tests and embedders."""
    global _default  # noqa: PLW0603
    with _default_lock:
        _default = registry


def describe(records: Iterable[PluginRecord]) -> Sequence[dict[str, Any]]:
    """Plain-data view of plugin records (for ``virtcore backends --json``)."""
    return [
        {
            "name": r.name,
            "source": r.source,
            "target": r.target,
            "distribution": r.distribution,
            "version": r.version,
            "loaded": r.loaded,
            "schemes": r.schemes,
            "connect_drivers": [d.name for d in r.connect_drivers],
            "state_drivers": [getattr(f, "__name__", repr(f)) for f in r.state_driver_factories],
            "error": r.error,
        }
        for r in records
    ]
