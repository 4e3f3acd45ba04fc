"""Where a database is: resolve a URL, file path or environment name into a `DatabaseRef`.

A `DatabaseRef` carries the full SQLAlchemy URL (password inside) but only ever shows `display`, the
URL with the password masked. `identity` says which database it really is, so `localhost`,
`127.0.0.1` and `::1` on the default port name the same server and a target equal to its source can
be refused before anything is written.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from sanitize.errors import ConnectionFailed, UrlError

Dialect = str  # "sqlite" | "postgresql" | "mysql"

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
# scheme (before "+driver") -> (dialect, drivername we connect with)
SCHEMES = {
    "postgresql": ("postgresql", "postgresql+psycopg"),
    "postgres": ("postgresql", "postgresql+psycopg"),
    "mysql": ("mysql", "mysql+pymysql"),
    "mariadb": ("mysql", "mariadb+pymysql"),
    "sqlite": ("sqlite", "sqlite"),
}
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".db3")
ENCODE_HINT = (
    "percent-encode special characters in the password (@ -> %40, : -> %3A, / -> %2F, % -> %25, # -> %23)"
)


@dataclass(frozen=True)
class DatabaseRef:
    """Where a database is, never holding a printable password."""

    url: URL  # full URL, password inside: never str() it into a message
    dialect: Dialect  # "sqlite" | "postgresql" | "mysql"
    display: str  # URL with the password masked, safe for logs and reports
    identity: tuple[object, ...]  # equal identity = same database

    def __repr__(self) -> str:
        return f"DatabaseRef({self.display})"

    __str__ = __repr__

    @property
    def path(self) -> Path:
        """The file of a SQLite database."""
        if self.dialect != "sqlite" or not self.url.database:
            raise UrlError(f"{self.display} is not a SQLite file")
        return Path(self.url.database)

    @property
    def password(self) -> str | None:
        pw = self.url.password
        return None if pw is None else str(pw)


_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*:/{1,3}")
_QUERY_SECRET = re.compile(r"(?i)\b(password|passwd|pwd|sslpassword)=[^&\s]*")


def mask_spec(spec: str) -> str:
    """A user-typed spec, well formed or not, with anything that may be a password replaced by ***.

    Whatever lies between the first `:` of the user part and the last `@` before the path is masked,
    also when the scheme is mistyped (`postgresql:/u:pw@h`, `postgresql//u:pw@h`) or missing
    (`u:pw@h/db`), or the password holds an unencoded `@`; so is `password=` in a query string."""
    text = _QUERY_SECRET.sub(r"\1=***", spec)
    scheme = _SCHEME.match(text)
    start = scheme.end() if scheme else 0
    rest = text[start:]
    at = rest.rfind("@", 0, len(rest.split("?")[0]))
    if at < 0:
        return text
    colon = rest.find(":", 0, at)
    if colon < 0:
        return text
    return text[:start] + rest[: colon + 1] + "***" + rest[at:]


def shown(url: URL) -> str:
    """A parsed URL as messages may show it: its password, in the URL or its query, masked."""
    return mask_spec(url.render_as_string(hide_password=True))


def scrub(text: str, ref: DatabaseRef) -> str:
    """`text` (e.g. a driver's error message) with the password of `ref`, in any encoding, removed."""
    pw = ref.password
    if pw:
        from urllib.parse import quote, quote_plus

        for form in sorted({pw, quote(pw, safe=""), quote_plus(pw), quote(pw)}, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


def connection_failed(ref: DatabaseRef, exc: BaseException, doing: str = "connect to") -> ConnectionFailed:
    """A ConnectionFailed naming host:port/database, never the password."""
    detail = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, ref)
    where = ref.display
    if ref.dialect != "sqlite":
        u = ref.url
        where = f"{u.host or 'localhost'}:{u.port or DEFAULT_PORTS[ref.dialect]}/{u.database or ''}"
    return ConnectionFailed(
        f"could not {doing} {ref.dialect} database {where} ({detail}); check that the server is running, "
        "the host, port, database name and credentials are right, and the network allows the connection"
    )


@lru_cache(maxsize=1)
def _local_addresses() -> frozenset[str]:
    addrs = {"127.0.0.1", "::1"}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            addrs.add(str(info[4][0]))
    except OSError:
        pass
    return frozenset(addrs)


@lru_cache(maxsize=64)
def canonical_host(host: str | None) -> str:
    """One name per server: every loopback or local address (or a unix socket) becomes 'local'."""
    if not host or host.startswith("/"):
        return "local"
    host = host.strip("[]").lower()
    try:
        ips = {str(info[4][0]).split("%")[0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return host
    if any(ipaddress.ip_address(ip).is_loopback or ip in _local_addresses() for ip in ips):
        return "local"
    return min(ips)


def sqlite_ref(path: str | Path, query: Mapping[str, str] | None = None) -> DatabaseRef:
    p = Path(path).expanduser()
    real = os.path.realpath(p)
    url = URL.create("sqlite", database=str(p))
    return DatabaseRef(url=url, dialect="sqlite", display=str(p), identity=("sqlite", real))


def _server_ref(url: URL, dialect: Dialect, spec: str) -> DatabaseRef:
    if url.host and "@" in url.host:
        raise UrlError(
            f"database URL {mask_spec(spec)} has '@' in its host part, so the password most likely holds a "
            f"special character; {ENCODE_HINT}"
        )
    if url.port is not None and not 0 < url.port < 65536:
        raise UrlError(f"database URL {shown(url)}: port {url.port} is out of range")
    database = url.database
    if dialect == "postgresql" and not database:
        database = url.username or "postgres"
    if dialect == "mysql" and not database:
        raise UrlError(
            f"database URL {shown(url)} names no database; add it after the "
            "host, e.g. mysql://user@host:3306/staging"
        )
    host = url.query.get("host") if not url.host else url.host
    host_s = host if isinstance(host, str) else (host[0] if host else None)
    port = url.port or DEFAULT_PORTS[dialect]
    identity = (dialect, canonical_host(host_s), port, database)
    return DatabaseRef(url=url, dialect=dialect, display=shown(url), identity=identity)


def resolve(spec: str, *, environments: Mapping[str, str] | None = None) -> DatabaseRef:
    """A DatabaseRef for a SQLAlchemy URL, a SQLite file path, or an environment name.

    This is where every command and API function turns what it was given into a database. Names come
    from `environments` (name -> URL, e.g. `Config.environment_urls()`); without it, from
    ./sanitize.yaml when there is one (`config.default_config`), for a spec that is not a URL or file."""
    if not isinstance(spec, str) or not spec.strip():
        raise UrlError("no database given; pass a SQLAlchemy URL, a SQLite file path, or an environment name")
    spec = spec.strip()
    if environments and spec in environments:
        target = environments[spec]
        if target in environments:
            raise UrlError(f"environment {spec!r} points at another environment name {target!r}; give a URL")
        unset = re.findall(r"\$\{([A-Za-z_]\w*)", target)
        if unset:  # left as written by config.default_config
            raise UrlError(
                f"environment {spec!r}: its URL needs {', '.join(unset)}, which is not set; set it in the "
                "environment or in the .env file next to sanitize.yaml"
            )
        try:
            return resolve(target, environments={})
        except UrlError as exc:  # the URL came from sanitize.yaml or .env: say which environment
            raise UrlError(f"environment {spec!r}: {exc.message}") from None
    if "://" in spec:
        return _resolve_url(spec)
    p = Path(spec).expanduser()
    if p.is_file() or p.suffix.lower() in SQLITE_SUFFIXES:
        if p.is_dir():
            raise UrlError(f"{mask_spec(spec)} is a directory, not a SQLite file")
        return sqlite_ref(p)
    if environments is None:  # a name, and no environments given: those of ./sanitize.yaml
        from sanitize.config import default_config

        cfg = default_config()
        return resolve(spec, environments=cfg.environment_urls() if cfg is not None else {})
    known = ", ".join(sorted(environments)) if environments else "none configured"
    raise UrlError(
        f"{mask_spec(spec)!r} is not a database URL (e.g. postgresql://user@host/db), an existing file, a "
        f"new SQLite file ending in {', '.join(SQLITE_SUFFIXES)}, or an environment name (known: {known})"
    )


def _resolve_url(spec: str) -> DatabaseRef:
    try:
        url = sa.engine.make_url(spec)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise UrlError(
            f"cannot parse database URL {mask_spec(spec)} ({type(exc).__name__}); expected "
            f"dialect://user:password@host:port/database; {ENCODE_HINT}"
        ) from None
    scheme, _, _driver = url.drivername.partition("+")
    if scheme not in SCHEMES:
        raise UrlError(
            f"database URL {shown(url)}: unsupported dialect {scheme!r}; "
            "sanitize works with postgresql://, mysql:// or mariadb://, and sqlite:///path/to/file.db"
        )
    dialect, drivername = SCHEMES[scheme]
    if dialect == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise UrlError(
                f"database URL {mask_spec(spec)}: an in-memory or URI-style SQLite database cannot be used; "
                "give a file, e.g. sqlite:///dev.db (relative) or sqlite:////abs/path/dev.db"
            )
        return sqlite_ref(url.database)
    return _server_ref(url.set(drivername=drivername), dialect, spec)
