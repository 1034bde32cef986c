#!/usr/bin/env bash
# The API reference, generated from the XML comments of the packages Nerva, Nerva.ML and Nerva.Distributed with docfx
# (a .NET tool pinned in .config/dotnet-tools.json, restored from NuGet) into artifacts/api-site (a static site; open
# index.html). Fails on any docfx warning (a broken cross-reference or link). An undocumented public member already
# fails the build itself: the packages generate their documentation files and treat warning CS1591 as an error.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
rm -rf docs/api/reference artifacts/api-site
dotnet docfx metadata docs/api/docfx.json --warningsAsErrors
dotnet docfx build docs/api/docfx.json --warningsAsErrors
echo "wrote the API reference to artifacts/api-site (open index.html)"
