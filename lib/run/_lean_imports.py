"""Imported first by :mod:`lib.run`, before anything imports nbformat.

jsonschema, which nbformat imports to validate notebooks, builds the grammar of the optional
package ``rfc3987_syntax`` when it is installed (it is, for jupyter-events): about 1 s of every
run. That grammar checks the "iri" string format, which notebook validation never asks for (it
checks no formats), so the runner tells the import the package is absent. Only the runner's
process is affected: the kernels and JupyterLab import it as usual.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
