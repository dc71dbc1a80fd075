"""Customer text: folding (width, case, Traditional to Simplified) and safe regexes.

Owns how complaint text is normalised before matching (``fold``) and how patterns on it
are compiled so that they run in linear time (``regex``, RE2 only). The lowest layer
besides ``errors``: it imports nothing else of triage, and everything may import it.
"""

from .folding import CLAUSE_BREAKS, fold, has_traditional

__all__ = ["CLAUSE_BREAKS", "fold", "has_traditional"]
