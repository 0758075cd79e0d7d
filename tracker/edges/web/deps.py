"""What the pages ask FastAPI for, declared once as ``Annotated`` aliases.

Pages take a session only (API tokens are for the API); a form post also reads the form
and checks its CSRF token before the route sees it. The API's aliases
(``tracker.edges.api.deps``) serve the pages too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from tracker.edges.api.auth import SignedIn
from tracker.edges.web.common import page_principal, posted
from tracker.edges.web.forms import FormValues

PageUser = Annotated[SignedIn, Depends(page_principal)]
PostedForm = Annotated[tuple[SignedIn, FormValues], Depends(posted)]
