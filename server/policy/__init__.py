"""The reception policy's back office (REQUIREMENTS.md B and C; DESIGN.md "Where the
later parts live").

This package owns the policy's configuration and, as it grows, its workflow:
- ``organisation.py``: departments and their heads, duties (marketing, finance, gm,
  president_office, auditor), and the approval chain's steps with who decides each;
- ``standards.py``: the star-level standards (meal, lodging, vehicle, extras; the
  alternative caps), versioned so an approved request keeps its version;
- ``cli.py``: ``lobby department ...`` and ``lobby user duty ...``;
- ``pages.py``: the admin pages (/admin/departments, /admin/approval-chain,
  /admin/standards); the JSON API lives with the others in ``server/api/policy.py``.
Hospitality requests, approvals, arrangement sheets, rooms, budgets and expenses come
next (issues 14 and 15) and belong here too.
"""
