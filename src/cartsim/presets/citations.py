"""The papers parameter values come from, keyed as parameter sources cite them.

A parameter's ``source`` starts with ``key:``. Keys other than the ones below are
``chosen`` (a value this project chose, with the reason) and ``definition`` (a unit or
convention). ``cited_keys`` collects the keys a model's parameters use, so every run can list
its bibliography (``cartsim cite``).
"""

from __future__ import annotations

from collections.abc import Iterable

from cartsim.model import Model

CITATIONS = {
    "stein2019": "Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular "
                 "kinetic analysis of chimeric antigen receptor-T cells. CPT Pharmacometrics Syst "
                 "Pharmacol 2019;8(5):285-295. doi:10.1002/psp4.12388",
    "kimmel2021": "Kimmel GJ, Locke FL, Altrock PM. The roles of T cell competition and "
                  "stochastic extinction events in chimeric antigen receptor T cell therapy. "
                  "Proc R Soc B 2021;288:20210229. doi:10.1098/rspb.2021.0229 "
                  "(SBML BIOMD0000001041)",
    "singh2021": "Singh AP, Chen W, Zheng X, et al. Bench-to-bedside translation of CAR T cells "
                 "using a multiscale systems PK-PD model: a case study with anti-BCMA CAR-T. "
                 "CPT Pharmacometrics Syst Pharmacol 2021;10(4):362-376",
    "hardiansyah2019": "Hardiansyah D, Ng CM. Quantitative systems pharmacology model of "
                       "chimeric antigen receptor T-cell therapy. Clin Transl Sci "
                       "2019;12(4):343-349. doi:10.1111/cts.12636",
    "chaudhury2020": "Chaudhury A, Zhu X, Chu L, et al. Chimeric antigen receptor T cell "
                     "therapies: a review of cellular kinetic-pharmacodynamic modeling "
                     "approaches. J Clin Pharmacol 2020;60(S1). doi:10.1002/jcph.1691 "
                     "(SBML BIOMD0000001025)",
    "leontriana2020": "León-Triana O, Sabir S, Calvo GF, et al. CAR T cell therapy in B-cell "
                      "acute lymphoblastic leukaemia: insights from mathematical models. "
                      "Commun Nonlinear Sci Numer Simul. doi:10.1016/j.cnsns.2020.105570 "
                      "(SBML BIOMD0000001011/1012)",
    "leontriana2021": "León-Triana O, Pérez-Martínez A, Ramírez-Orellana M, Pérez-García VM. "
                      "Dual-target CAR-Ts with on- and off-tumour activity may override immune "
                      "suppression in solid cancers. Cancers 2021;13(4):703 "
                      "(SBML BIOMD0000001013/1014)",
    "santurio2025": "Santurio DS, Barros LRC, Glauche I, Fassoni AC. Mathematical modeling "
                    "unveils the timeline of CAR-T cell therapy and macrophage-mediated "
                    "cytokine release syndrome. PLoS Comput Biol 2025. "
                    "doi:10.1371/journal.pcbi.1012908",
    "liu2021": "Liu C, Ayyar VS, Zheng X, et al. Model-based cellular kinetic analysis of CAR-T "
               "cells in humans. Clin Pharmacol Ther 2021 (medRxiv 10.1101/2020.05.09.20096586)",
    "hanson2016": "Hanson S, Grimes DR, Taylor-King JP, et al. Toxicity management in CAR T "
                  "cell therapy for B-ALL: mathematical modelling as a new avenue for "
                  "improvement. bioRxiv 2016 (SBML BIOMD0000000837)",
    "carcade2022": "Prybutok AN, Yu JS, Leonard JN, Bagheri N. Mapping CAR T-cell design space "
                   "using agent-based models. Front Mol Biosci 2022;9:849363",
    "zuma1": "ZUMA-1, axicabtagene ciloleucel in refractory LBCL: Neelapu SS et al. NEJM "
             "2017;377:2531-2544, and its 5-year update, Neelapu SS et al. Blood "
             "2023;141:2307",
    "eliana": "ELIANA, tisagenlecleucel in r/r B-ALL: Maude SL et al. NEJM 2018;378:439-448",
    "karmma": "KarMMa, idecabtagene vicleucel in r/r multiple myeloma: Munshi NC et al. NEJM "
              "2021;384:705-716",
    "ct041": "CT041-CG4006, satricabtagene autoleucel (CLDN18.2 CAR-T) in gastrointestinal "
             "cancers, phase 1 interim: Qi C et al. Nat Med 2022;28:1189-1198",
    "trials_design_only": "Product and protocol facts of further trials, each from the "
                          "trial's own publication (named beside the value where it is used)",
    "clinical_rules": "CRS and ICANS grading and management: ASTCT consensus, Lee DW et al. "
                      "Biol Blood Marrow Transplant 2019;25:625-638; Lee DW et al. Blood "
                      "2014;124:188-195; the Penn scale, Porter D et al. J Hematol Oncol "
                      "2018;11:35; management as in the Yescarta and Kymriah US labels",
}

UNCITED = ("chosen", "definition")


def source_key(source: str) -> str:
    """The citation key a source text starts with (``"kimmel2021: Table 1"`` → kimmel2021)."""
    return source.split(":", 1)[0].strip()


def cited_keys(model: Model) -> list[str]:
    """Citation keys used by the model's parameters, sorted; uncited choices left out."""
    keys = {source_key(p.source) for p in model.parameters}
    return sorted(k for k in keys if k not in UNCITED)


def bibliography(keys: Iterable[str]) -> list[str]:
    """Full references for ``keys``, in order."""
    return [f"[{key}] {CITATIONS[key]}" for key in keys]
