"""``cartsim grade crs|icans`` and ``cartsim score hematotox|easix``: the clinical rules as
calculators for real patients. Each prints the result and the rule that decided it (``--json``
for machines); an impossible value exits with code 2 and names the flag."""

from __future__ import annotations

import argparse
import json

from cartsim.clinical import crs, icans, scores
from cartsim.clinical.checks import ClinicalValueError
from cartsim.errors import CartsimError

CRS_SCALES = {"astct": crs.astct_crs, "lee2014": crs.lee2014_crs, "penn": crs.penn_crs}
FLAG_OF_FIELD = {"temperature": "--temp", "hemoglobin": "--hb"}  # where the flag is shorter


def register(subparsers) -> None:
    grade = subparsers.add_parser("grade", help="grade CRS or ICANS from bedside findings")
    kinds = grade.add_subparsers(dest="kind", metavar="KIND", required=True)

    crs_parser = kinds.add_parser("crs", help="cytokine release syndrome (ASTCT 2019 by "
                                  "default; Lee 2014 or Penn with --scale)")
    crs_parser.add_argument("--temp", type=float, required=True, help="temperature, °C")
    crs_parser.add_argument("--hypotension", default="none", choices=list(crs.HYPOTENSION))
    crs_parser.add_argument("--oxygen", default="none", choices=list(crs.OXYGEN))
    crs_parser.add_argument("--scale", default="astct", choices=list(CRS_SCALES))
    crs_parser.add_argument("--anticytokine-given", action="store_true",
                            help="tocilizumab or steroids given (ASTCT: fever no longer "
                                 "required)")
    crs_parser.add_argument("--organ-toxicity", type=int, default=0,
                            help="worst CTCAE organ toxicity grade (Lee 2014)")
    crs_parser.add_argument("--transaminitis", type=int, default=0,
                            help="CTCAE transaminitis grade (Lee 2014, Penn)")
    crs_parser.add_argument("--creatinine-grade", type=int, default=0,
                            help="CTCAE creatinine grade (Penn)")
    crs_parser.add_argument("--hospitalised", action="store_true",
                            help="hospitalised for CRS symptoms (Penn)")
    crs_parser.add_argument("--coagulopathy", action="store_true",
                            help="coagulopathy needing FFP/cryo/fibrinogen (Penn)")
    crs_parser.add_argument("--json", action="store_true")
    crs_parser.set_defaults(handler=run_grade_crs)

    icans_parser = kinds.add_parser("icans", help="ICANS (ASTCT 2019; ICE over 12 years, "
                                    "CAPD for children of 12 or under)")
    icans_parser.add_argument("--ice", type=int, default=None,
                              help="ICE score 0-10 (default 10 unless --capd is given)")
    icans_parser.add_argument("--capd", type=int, default=None,
                              help="CAPD score 0-32, in place of --ice for a child of 12 or "
                                   "under")
    icans_parser.add_argument("--capd-not-possible", action="store_true",
                              help="the child cannot do the CAPD (grade 4)")
    icans_parser.add_argument("--consciousness", default="awake",
                              choices=list(icans.CONSCIOUSNESS))
    icans_parser.add_argument("--seizure", default="none", choices=list(icans.SEIZURE))
    icans_parser.add_argument("--motor", default="none", choices=list(icans.MOTOR))
    icans_parser.add_argument("--icp", default="none", choices=list(icans.ICP))
    icans_parser.add_argument("--json", action="store_true")
    icans_parser.set_defaults(handler=run_grade_icans)

    score = subparsers.add_parser("score", help="baseline risk scores (CAR-HEMATOTOX, EASIX)")
    score_kinds = score.add_subparsers(dest="kind", metavar="SCORE", required=True)
    hema = score_kinds.add_parser("hematotox", help="CAR-HEMATOTOX (Rejeski 2021), measured "
                                  "before lymphodepletion")
    hema.add_argument("--platelets", type=float, required=True, help="platelets, x10^9/L")
    hema.add_argument("--anc", type=float, required=True, help="neutrophils, x10^9/L")
    hema.add_argument("--hb", type=float, required=True, help="haemoglobin, g/dL")
    _crp_options(hema, required=True)
    hema.add_argument("--ferritin", type=float, required=True, help="ferritin, ng/mL")
    hema.add_argument("--json", action="store_true")
    hema.set_defaults(handler=run_hematotox)

    easix_parser = score_kinds.add_parser("easix", help="EASIX = LDH × creatinine / "
                                          "platelets (continuous)")
    easix_parser.add_argument("--ldh", type=float, required=True, help="LDH, U/L")
    easix_parser.add_argument("--platelets", type=float, required=True, help="x10^9/L")
    easix_parser.add_argument("--creatinine", type=float, help="mg/dL (easix)")
    _crp_options(easix_parser, required=False, use=" (m-easix)")
    easix_parser.add_argument("--variant", default="easix", choices=scores.EASIX_VARIANTS)
    easix_parser.add_argument("--json", action="store_true")
    easix_parser.set_defaults(handler=run_easix)


def _crp_options(parser, *, required: bool, use: str = "") -> None:
    """CRP in mg/dL as the scores define it, or in mg/L as labs and the simulated
    trajectories (crp_mg_l) report it."""
    crp = parser.add_mutually_exclusive_group(required=required)
    crp.add_argument("--crp", type=float, help=f"C-reactive protein, mg/dL{use}")
    crp.add_argument("--crp-mg-l", type=float, help=f"C-reactive protein, mg/L{use} (the "
                                                    "simulated crp_mg_l); divided by 10")


def _crp_mg_dl(args: argparse.Namespace) -> float | None:
    return args.crp if args.crp_mg_l is None else args.crp_mg_l / 10.0


def _report(result, as_json: bool) -> int:
    print(json.dumps(result.as_dict()) if as_json else str(result))
    return 0


def _flagged(call):
    """Run a rule; an impossible value becomes a CartsimError naming the command-line flag."""
    try:
        return call()
    except ClinicalValueError as exc:
        flag = FLAG_OF_FIELD.get(exc.field, "--" + exc.field.replace("_", "-"))
        raise CartsimError(f"{flag} {exc.shown}: {exc.allowed}") from exc


def run_grade_crs(args: argparse.Namespace) -> int:
    grader = CRS_SCALES[args.scale]
    options = {"astct": {"anticytokine_given": args.anticytokine_given},
               "lee2014": {"organ_toxicity": args.organ_toxicity,
                           "transaminitis": args.transaminitis},
               "penn": {"hospitalised": args.hospitalised,
                        "creatinine_grade": args.creatinine_grade,
                        "transaminitis": args.transaminitis,
                        "coagulopathy": args.coagulopathy}}[args.scale]
    result = _flagged(lambda: grader(args.temp, args.hypotension, args.oxygen, **options))
    return _report(result, args.json)


def run_grade_icans(args: argparse.Namespace) -> int:
    result = _flagged(lambda: icans.astct_icans(args.ice, args.consciousness, args.seizure,
                                                args.motor, args.icp, capd=args.capd,
                                                capd_possible=not args.capd_not_possible))
    return _report(result, args.json)


def run_hematotox(args: argparse.Namespace) -> int:
    result = _flagged(lambda: scores.hematotox(args.platelets, args.anc, args.hb,
                                               _crp_mg_dl(args), args.ferritin))
    return _report(result, args.json)


def run_easix(args: argparse.Namespace) -> int:
    result = _flagged(lambda: scores.easix(args.ldh, args.platelets,
                                           creatinine_mg_dl=args.creatinine,
                                           crp_mg_dl=_crp_mg_dl(args), variant=args.variant))
    return _report(result, args.json)
