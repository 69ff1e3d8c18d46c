"""Hosts StreamAggregator for TypeScript, Go, C#, Java and YAML programs.

The components and the handler live at the repository root, one level up; the analyzer infers the
package schema (inputs with their docs, outputs) from StreamAggregatorArgs and the class's
annotated outputs.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components import StreamAggregator
from components._version import __version__

PACKAGE_NAME = "stream-aggregator"

if __name__ == "__main__":
    component_provider_host(name=PACKAGE_NAME, components=[StreamAggregator], version=__version__)
