"""The draw ceremony's steps, the sealed lists and recusals (SPEC §3, §4; Art 5, 6, 9, 12, 16).

Order is the point of a ceremony: the pools are frozen, then the server
commits to its secret nonce, then witnesses throw dice, then the public
algorithm runs. Each step refuses unless the one before it is done, and a
state change is claimed by a conditional UPDATE so that two clicks (or two
workers) cannot both run it: an attempt is drawn at most once, ever.

What is written where:
- plaintext, shown on the record: pool sizes and SHA-256 hashes, sample
  sizes, the nonce commitment, the witnesses and their digits, the result
  commitment, failures, redraw reasons and who approved them;
- sealed (AES-256-GCM under the task's data key, `ssj.sealing.service`):
  the pools themselves, the nonce, the result, each assignment's target,
  each recusal.
A person sees sealed content only through `_reveal`, which goes through
`sealing.service.read_sealed` (log first, fail closed). Server-side work
that shows nothing to anyone (a draw, a recusal) uses `open_json` and
needs no read entry; the Art 16 set E, which reads other tasks' sealed
results, is logged as a system read naming no target.

The steps live in modules along the ceremony's sections — attempts, pools (step 1),
witnesses (steps 2 and 3), drawing (step 4), redraw, lists, recusal,
verification, steps — and this module names them all, so callers keep
importing `ceremony.service`.

Changes join the request's unit of work; the after_request hook commits
them with the access-log entries written here (ssj.audit.hooks).
"""
from __future__ import annotations

from .attempts import (  # noqa: F401
    CeremonyError,
    REDRAWABLE,
    attempts_of,
    attempts_view,
    canonical_json,
    current_attempt,
    result_commitment,
    sealed_attempt,
    summary,
)
from .pools import (  # noqa: F401
    art16_exclusion,
    freeze,
    frozen_conflicts,
)
from .witnesses import (  # noqa: F401
    add_witness,
    commit,
    confirm_witness,
    digits_entered,
    entropy_problems,
    has_external_witness,
    refuse_witness,
    witness_step_problem,
)
from .drawing import (  # noqa: F401
    a_record_id,
    run,
)
from .redraw import (  # noqa: F401
    decide_redraw,
    reason_problem,
    request_redraw,
)
from .lists import (  # noqa: F401
    ListedRecusal,
    ListedTarget,
    Member,
    MyAssignment,
    SealedList,
    active_assignment,
    my_assignments,
    read_list,
)
from .recusal import (  # noqa: F401
    recuse,
)
from .verification import (  # noqa: F401
    bundle_for,
    commitment_holds,
)
from .steps import (  # noqa: F401
    STEPS,
    Step,
    current_step,
)
