"""The clinical layer: toxicity grades, response criteria and risk scores as exact rules
(clinical_rules.md), usable on real patients and on simulated physiology."""
