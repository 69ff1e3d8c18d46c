"""Hosts StreamAggregator for TypeScript, Go, C#, Java and YAML programs.

The components and the handler live at the repository root, one level up; the analyzer infers the
package schema (inputs with their docs, outputs) from StreamAggregatorArgs and the class's
annotated outputs. The host (components/multi_language.py) is Pulumi's component provider with one
addition: an input key the schema does not declare is refused, where Pulumi's would drop it.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from components._version import __version__
from components.multi_language import host

if __name__ == "__main__":
    # As component_provider_host does: the engine's address and flags follow the plugin's path.
    host(__version__, sys.argv[1:])
