"""Drugs and procedures: lymphodepletion, bridging, tocilizumab, steroids, IVIG, rescue
therapy, safety switch.

Schedules are parameters, so one compiled model serves every regimen: a course given from day
``start`` for ``days`` days is a time window (exact breakpoints for the solver), single doses are
time events at parameter times (``1e6`` = never). Lymphodepleting chemotherapy and bridging act
through a decaying exposure that kills lymphocytes (and, less, tumour). Tocilizumab occupies the
IL-6 receptor (see :mod:`.cytokines`); dexamethasone (or its equivalent) reaches an effect
compartment that suppresses cytokine production and CAR-T activation. The safety switch
(inducible caspase 9 type) kills CAR-T cells once triggered.
"""

from __future__ import annotations

from cartsim.model import Assignment, Model, State, TimeEvent, add_to, set_value
from cartsim.therapy.common import par

NEVER = 1e6
"""Dose times default to day 1e6: beyond any simulation, so the dose is not given."""

TOCILIZUMAB_SLOTS = 4
"""At most four tocilizumab doses in total (ASTCT-era policies; clinical_rules.md)."""


DEX_COURSES = 3
"""Corticosteroid courses a policy can give (start, escalate, pulse), each a time window."""


def _window(start: str, days: str) -> str:
    return f"ifelse((t >= {start}) & (t < {start} + {days}), 1, 0)"


def _dex_course_parameters():
    for i in range(1, DEX_COURSES + 1):
        yield par(f"dex{i}_mg_per_day", 0.0, "mg/day", "chosen: none unless a policy or "
                  "scenario gives it", f"dexamethasone-equivalent dose rate of course {i}")
        yield par(f"dex{i}_start", NEVER, "day", "chosen: never by default",
                  f"start of corticosteroid course {i}")
        yield par(f"dex{i}_days", 3.0, "day", "chosen: a short course",
                  f"duration of corticosteroid course {i}")


DRUG_PARAMETERS = (
    par("weight_kg", 70.0, "kg", "chosen: adult reference weight", "body weight"),
    # lymphodepletion
    par("flu_mg_m2", 30.0, "mg/m^2/day", "zuma1: lymphodepletion_regimen fludarabine 30 mg/m2",
        "fludarabine daily dose"),
    par("cy_mg_m2", 500.0, "mg/m^2/day", "zuma1: lymphodepletion_regimen cyclophosphamide "
        "500 mg/m2", "cyclophosphamide daily dose"),
    par("benda_mg_m2", 0.0, "mg/m^2/day", "chosen: bendamustine only when a regimen sets it "
        "(JULIET allowed 90 mg/m2, trials_design_only)", "bendamustine daily dose"),
    par("flu_ref", 30.0, "mg/m^2", "zuma1: standard fludarabine dose", "fludarabine "
        "dose counted as one exposure unit per day"),
    par("cy_ref", 500.0, "mg/m^2", "zuma1: standard cyclophosphamide dose",
        "cyclophosphamide dose counted as one exposure unit per day"),
    par("benda_ref", 90.0, "mg/m^2", "chosen: JULIET's bendamustine 90 mg/m2 counted like "
        "one Flu/Cy day (trials_design_only)", "bendamustine dose counted as one exposure "
        "unit per day"),
    par("ld_start", -5.0, "day", "zuma1: days -5, -4, -3", "first day of lymphodepletion"),
    par("flu_days", 3.0, "day", "zuma1: days -5, -4, -3", "days of fludarabine (0 = none)"),
    par("cy_days", 3.0, "day", "zuma1: days -5, -4, -3", "days of cyclophosphamide, from "
        "ld_start + cy_delay (0 = none)"),
    par("cy_delay", 0.0, "day", "zuma1: cyclophosphamide with fludarabine from the first day",
        "days from ld_start to the first cyclophosphamide dose (zuma3: day -2 after "
        "fludarabine from day -4)"),
    par("benda_days", 0.0, "day", "chosen: none unless a regimen sets it", "days of "
        "bendamustine, from ld_start"),
    par("k_ld", 1.0, "1/day", "chosen: cytotoxic exposure fades within days of the last dose",
        "decay of lymphodepletion exposure"),
    par("k_ld_lymph", 1.1, "1/day", "chosen: calibrated so Flu/Cy 30/500 x3 takes N0 to about "
        "3e9 normal T cells at infusion (kimmel2021: N0)", "lymphocyte kill per unit exposure"),
    par("k_ld_tumour", 0.05, "1/day", "chosen: r/r disease is chemo-refractory; lymphodepletion "
        "kills a little tumour", "tumour kill per unit exposure"),
    # bridging
    par("bridge_start", -30.0, "day", "chosen: during manufacturing, before lymphodepletion",
        "first day of bridging therapy"),
    par("bridge_days", 0.0, "day", "chosen: none unless a protocol gives it (zuma1: not "
        "permitted)", "days of bridging therapy"),
    par("bridge_kill", 0.1, "1/day", "chosen: modest control of refractory disease "
        "(karmma: response to bridging 4%)", "tumour kill rate during bridging"),
    # tocilizumab
    *(par(f"toci_t{i}", NEVER, "day", "chosen: no dose unless a policy or scenario gives one",
          f"time of tocilizumab dose {i}") for i in range(1, TOCILIZUMAB_SLOTS + 1)),
    par("toci_mg_per_kg", 8.0, "mg/kg", "clinical_rules: tocilizumab 8 mg/kg (max 800 mg)",
        "tocilizumab dose"),
    par("toci_max_mg", 800.0, "mg", "clinical_rules: tocilizumab max 800 mg", "tocilizumab "
        "maximal single dose"),
    par("v_toci", 6.4, "L", "chosen: monoclonal antibody central plus peripheral volume "
        "(about 6 L in adults)", "tocilizumab distribution volume"),
    par("k_toci", 0.1, "1/day", "chosen: tocilizumab half-life of about a week at "
        "therapeutic concentrations", "tocilizumab elimination"),
    par("kd_toci", 1.0, "mg/L", "chosen: receptor occupancy is near complete at the "
        "concentrations of an 8 mg/kg dose", "tocilizumab concentration for half occupancy"),
    # corticosteroids (dexamethasone equivalents), in up to DEX_COURSES courses
    *_dex_course_parameters(),
    par("k_dex", 0.5, "1/day", "chosen: biological effect of dexamethasone outlasts its "
        "plasma half-life (about 1.4 days effect half-life)", "decay of the steroid effect "
        "compartment"),
    par("ec50_dex", 10.0, "mg", "chosen: 10 mg dexamethasone q6h is near maximal effect",
        "steroid amount for half-maximal effect"),
    par("emax_dex", 0.8, "", "chosen: steroids blunt but do not abolish activation "
        "(stein2019: F_ster 1.0, no effect on expansion detected)", "maximal steroid "
        "suppression"),
    # immunoglobulin replacement
    par("ivig_start", NEVER, "day", "chosen: never by default", "first IVIG dose"),
    par("ivig_every", 28.0, "day", "chosen: monthly replacement", "IVIG interval"),
    par("ivig_g_per_kg", 0.4, "g/kg", "chosen: usual replacement dose", "IVIG dose"),
    par("v_igg", 7.0, "L", "chosen: IgG distributes in plasma and interstitial fluid",
        "IgG distribution volume"),
    # rescue therapy after CAR-T failure (bispecific, chemotherapy, transplant conditioning)
    par("rescue_start", NEVER, "day", "chosen: never by default", "start of rescue therapy"),
    par("rescue_days", 0.0, "day", "chosen: none by default", "duration of rescue therapy"),
    par("rescue_kill_pos", 0.0, "1/day", "chosen: set by the rescue rule", "rescue kill rate "
        "of antigen-positive and antigen-low tumour cells"),
    par("rescue_kill_neg", 0.0, "1/day", "chosen: set by the rescue rule", "rescue kill rate "
        "of antigen-negative tumour cells"),
    # safety switch
    par("switch_time", NEVER, "day", "chosen: never by default", "time the safety switch "
        "is triggered"),
    par("k_switch", 50.0, "1/day", "chosen: inducible caspase switches remove about 90% of "
        "CAR-T cells within hours", "CAR-T kill rate once the switch is on"),
    par("switch_on", 0.0, "", "definition: 0 until the safety switch event", "1 once the "
        "safety switch is triggered"),
)


def drugs_model() -> Model:
    toci_dose = "min(toci_mg_per_kg*weight_kg, toci_max_mg)/v_toci"
    events = [TimeEvent(f"tocilizumab_{i}", f"toci_t{i}", (add_to("toci", toci_dose),))
              for i in range(1, TOCILIZUMAB_SLOTS + 1)]
    events += [
        TimeEvent("ivig", "ivig_start", (add_to("igg", "ivig_g_per_kg*weight_kg/v_igg"),),
                  every="ivig_every", count=24),
        TimeEvent("safety_switch", "switch_time", (set_value("switch_on", 1),)),
    ]
    return Model(
        "drugs",
        states=[
            State("ld_exposure", "", 0.0, "lymphodepleting chemotherapy exposure"),
            State("toci", "mg/L", 0.0, "tocilizumab concentration"),
            State("dex", "mg", 0.0, "corticosteroid in the effect compartment "
                  "(dexamethasone equivalents)"),
        ],
        parameters=DRUG_PARAMETERS,
        assignments=[
            Assignment("ld_input", f"{_window('ld_start', 'flu_days')}*flu_mg_m2/flu_ref + "
                       f"{_window('ld_start + cy_delay', 'cy_days')}*cy_mg_m2/cy_ref + "
                       f"{_window('ld_start', 'benda_days')}*benda_mg_m2/benda_ref", "1/day",
                       "daily chemotherapy, in units of "
                       "the standard Flu/Cy doses"),
            Assignment("lymphodepletion_kill", "k_ld_lymph*ld_exposure", "1/day",
                       "lymphocyte kill rate by chemotherapy"),
            Assignment("drug_tumour_kill", "k_ld_tumour*ld_exposure + bridge_kill*"
                       f"{_window('bridge_start', 'bridge_days')}", "1/day",
                       "tumour kill rate by chemotherapy and bridging"),
            Assignment("toci_occupancy", "toci/(toci + kd_toci)", "",
                       "IL-6 receptor occupancy by tocilizumab"),
            Assignment("steroid_effect", "emax_dex*dex/(dex + ec50_dex)", "",
                       "fractional suppression by corticosteroids"),
            Assignment("rescue_on", _window("rescue_start", "rescue_days"), "",
                       "1 while rescue therapy is given"),
            Assignment("switch_kill", "switch_on*k_switch", "1/day",
                       "CAR-T kill rate by the safety switch"),
        ],
        equations={
            "ld_exposure": "ld_input - k_ld*ld_exposure",
            "toci": "-k_toci*toci",
            "dex": " + ".join(f"dex{i}_mg_per_day*{_window(f'dex{i}_start', f'dex{i}_days')}"
                              for i in range(1, DEX_COURSES + 1)) + " - k_dex*dex",
        },
        events=events,
        description=__doc__.splitlines()[0],
    )
