"""Static lists behind the demo county 商水县 (周口市, 河南省; region code 411623).

They feed `ssj.demo`, which builds directories that look like the ones the
bureau keeps under Art 4 (matters), Art 5 (inspectors) and Art 6/19
(targets covering every township). Nothing here is real personal data: the
places and laws are real, the people and enterprises are invented.
"""

DEMO_PASSWORD = "ssj-demo-2026"  # every demo user's password (ssj.demo, ssj.demo_lifecycle)
