"""A local NuGet v3 package source, in the wire format of Microsoft's "NuGet Server API" docs.

Served on a :class:`~_support.registry.LocalRegistry`:

* ``/v3/index.json``: the service index (``RegistrationsBaseUrl/3.6.0``,
  ``PackageBaseAddress/3.0.0``);
* ``/v3/registration/{id}/index.json``: the registration index, one page with its leaves
  inlined (each with its ``catalogEntry``: ``id``, ``version``, ``listed``,
  ``dependencyGroups`` per ``targetFramework``, ``packageContent``), or with ``paged=True`` a
  page that is only linked and served at its own URL;
* ``/v3/catalog/{id}.{version}.json``: the catalog leaf with ``packageHash`` (base64 SHA-512) and
  ``packageHashAlgorithm``, unless the package was added with ``catalog=False`` (a source
  without a catalog, like most private feeds);
* ``/v3/flatcontainer/{id}/index.json`` and ``.../{id}/{version}/{id}.{version}.nupkg``: real
  ``.nupkg`` files (zip archives holding the ``.nuspec``), built byte-identically each time, so
  their SHA-512 is what a lock file's ``contentHash`` must say.

Routes are read per request, so :meth:`NuGetFeed.add` followed by :meth:`NuGetFeed.publish`
makes a new version appear while the server runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from _support.registry import LocalRegistry

#: Target framework (None: a group without one) -> dependency id -> range.
Groups = Mapping[str | None, Mapping[str, str]]


@dataclass
class _Version:
    id: str
    version: str
    groups: Groups
    listed: bool
    nupkg: bytes


@dataclass
class _Package:
    id: str
    catalog: bool = True
    paged: bool = False
    versions: list[_Version] = field(default_factory=list)


def nuspec(package_id: str, version: str, groups: Groups) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">',
        "  <metadata>",
        f"    <id>{package_id}</id>",
        f"    <version>{version}</version>",
        "    <authors>tuskops tests</authors>",
        "    <description>test package</description>",
    ]
    if groups:
        lines.append("    <dependencies>")
        for framework, deps in groups.items():
            attr = f" targetFramework={quoteattr(framework)}" if framework else ""
            lines.append(f"      <group{attr}>")
            for dep, dep_range in deps.items():
                lines.append(
                    f"        <dependency id={quoteattr(dep)} version={quoteattr(dep_range)} />"
                )
            lines.append("      </group>")
        lines.append("    </dependencies>")
    lines += ["  </metadata>", "</package>", ""]
    return "\n".join(lines).encode()


def build_nupkg(package_id: str, version: str, groups: Groups) -> bytes:
    """A minimal ``.nupkg``: the same bytes every time (fixed timestamps, fixed order)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        stamp = (2020, 1, 1, 0, 0, 0)
        zf.writestr(
            zipfile.ZipInfo(f"{package_id}.nuspec", stamp), nuspec(package_id, version, groups)
        )
        zf.writestr(zipfile.ZipInfo("lib/netstandard2.0/_._", stamp), b"")
    return buf.getvalue()


def content_hash(data: bytes) -> str:
    """What NuGet writes as ``contentHash``: base64 SHA-512 of the ``.nupkg``."""
    return base64.b64encode(hashlib.sha512(data).digest()).decode()


class NuGetFeed:
    """A NuGet v3 source on ``registry`` (see the module doc)."""

    def __init__(self, registry: LocalRegistry) -> None:
        self.registry = registry
        base = registry.base
        self.index_url = f"{base}/v3/index.json"
        self.registration = f"{base}/v3/registration"
        self.flat = f"{base}/v3/flatcontainer"
        self.catalog = f"{base}/v3/catalog"
        self.packages: dict[str, _Package] = {}
        registry.add(
            "/v3/index.json",
            {
                "version": "3.0.0",
                "resources": [
                    {"@id": f"{self.registration}/", "@type": "RegistrationsBaseUrl/3.6.0"},
                    {"@id": f"{self.flat}/", "@type": "PackageBaseAddress/3.0.0"},
                ],
            },
        )

    def add(
        self,
        package_id: str,
        version: str,
        groups: Groups | None = None,
        *,
        listed: bool = True,
        catalog: bool = True,
        paged: bool = False,
    ) -> bytes:
        """Add one version (call :meth:`publish` afterwards); returns its ``.nupkg``."""
        package = self.packages.setdefault(package_id.lower(), _Package(package_id))
        package.catalog = package.catalog and catalog
        package.paged = package.paged or paged
        data = build_nupkg(package_id, version, groups or {})
        package.versions.append(_Version(package_id, version, groups or {}, listed, data))
        return data

    def nupkg(self, package_id: str, version: str) -> bytes:
        package = self.packages[package_id.lower()]
        return next(v.nupkg for v in package.versions if v.version == version)

    def publish(self) -> None:
        """(Re)write every route from the packages added so far."""
        for lid, package in self.packages.items():
            leaves = []
            for v in package.versions:
                lver = v.version.lower()
                nupkg_path = f"/v3/flatcontainer/{lid}/{lver}/{lid}.{lver}.nupkg"
                self.registry.add(nupkg_path, v.nupkg, "application/octet-stream")
                content = f"{self.registry.base}{nupkg_path}"
                entry: dict[str, object] = {
                    "id": v.id,
                    "version": v.version,
                    "listed": v.listed,
                    "packageContent": content,
                    "dependencyGroups": [
                        {
                            **({"targetFramework": fw} if fw else {}),
                            "dependencies": [{"id": d, "range": r} for d, r in deps.items()],
                        }
                        for fw, deps in v.groups.items()
                    ],
                }
                if package.catalog:
                    catalog_path = f"/v3/catalog/{lid}.{lver}.json"
                    entry["@id"] = f"{self.registry.base}{catalog_path}"
                    self.registry.add(
                        catalog_path,
                        {
                            "id": v.id,
                            "version": v.version,
                            "packageHash": content_hash(v.nupkg),
                            "packageHashAlgorithm": "SHA512",
                        },
                    )
                leaves.append(
                    {
                        "@id": f"{self.registration}/{lid}/{lver}.json",
                        "catalogEntry": entry,
                        "packageContent": content,
                    }
                )
            lower, upper = package.versions[0].version, package.versions[-1].version
            page_url = f"{self.registration}/{lid}/page/{lower}/{upper}.json"
            page = {
                "@id": page_url,
                "count": len(leaves),
                "lower": lower,
                "upper": upper,
                "items": leaves,
            }
            if package.paged:
                self.registry.add(page_url.removeprefix(self.registry.base), page)
                page = {k: v for k, v in page.items() if k != "items"}
            self.registry.add(f"/v3/registration/{lid}/index.json", {"count": 1, "items": [page]})
            self.registry.add(
                f"/v3/flatcontainer/{lid}/index.json",
                {"versions": [v.version.lower() for v in package.versions]},
            )
