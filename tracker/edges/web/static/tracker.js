// Progressive enhancement only: every page works without this file.
// GOV.UK Frontend's own script (built into /static/govuk by run.py) adds character counts
// and moves focus to the error summary or the success banner.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
