"""Per-attribute precision and recall of facegen.describe over the description test sets.

    .venv/bin/python scripts/describe_accuracy.py [--show-errors] [FILE.json ...]

With no files it reads tests/facegen/descriptions_ko.json and descriptions_en.json, and the
edit requests in tests/facegen/edits.json. A description file holds {"descriptions": [{"text",
"attributes", "impressions"?, "unknown"?}], "not_understood": [...]}; an edit file holds
{"edits": [{"text", "edits": [{"field", "amount" | "value"}]}]}. A degree counts as right within
±0.15 of the expected value; marks (lists of places) are compared as sets. Recall: expected
fields parsed right; precision: parsed fields that were expected and right.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facegen.describe import detect_locale, parse_description, parse_edits, warm_up  # noqa: E402

DEFAULT_SETS = [ROOT / "tests/facegen/descriptions_ko.json", ROOT / "tests/facegen/descriptions_en.json"]
EDIT_SETS = [ROOT / "tests/facegen/edits.json"]
TOLERANCE = 0.15


def same(expected: object, got: object) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        return set(expected) == set(got)
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return abs(expected - got) <= TOLERANCE
    return expected == got


@dataclass
class Score:
    expected: int = 0
    parsed: int = 0
    right: int = 0

    @property
    def recall(self) -> float:
        return self.right / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.parsed if self.parsed else 1.0


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=lambda: defaultdict(Score))
    errors: list[str] = field(default_factory=list)
    exact: int = 0
    total: int = 0
    unknown_misses: list[str] = field(default_factory=list)
    seconds_by_language: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def evaluate(paths: list[Path]) -> Report:
    report = Report()
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        cases = data.get("descriptions", []) + data.get("not_understood", [])
        for case in cases:
            start = time.perf_counter()
            got = parse_description(case["text"])
            report.seconds_by_language[detect_locale(case["text"])].append(time.perf_counter() - start)
            parsed = got.attributes.specified()
            expected = case.get("attributes", {})
            report.total += 1
            wrong = []
            for name in set(expected) | set(parsed):
                score = report.scores[name]
                score.expected += name in expected
                score.parsed += name in parsed
                if name in expected and name in parsed and same(expected[name], parsed[name]):
                    score.right += 1
                else:
                    wrong.append(f"{name}: expected {expected.get(name)!r}, got {parsed.get(name)!r}")
            for impression in case.get("impressions", []):
                if not any(impression in label for label in got.impressions):
                    wrong.append(f"impression {impression!r} missing from {got.impressions}")
            wanted_unknown = case.get("unknown", [])
            for word in wanted_unknown:
                if not any(word in u for u in got.unknown):
                    report.unknown_misses.append(f"{case['text']}: {word!r} not in {got.unknown}")
            if not wanted_unknown and got.unknown:
                wrong.append(f"not understood: {got.unknown}")
            if wrong:
                report.errors.append(f"{case['text']}\n    " + "\n    ".join(sorted(wrong)))
            else:
                report.exact += 1
    return report


def evaluate_edits(paths: list[Path]) -> tuple[int, int, list[str]]:
    """(requests whose edits all came back right and in order, requests, the wrong ones)."""
    right, total, errors = 0, 0, []
    for path in paths:
        for case in json.loads(path.read_text(encoding="utf-8"))["edits"]:
            total += 1
            got = [(e.field, "amount", e.amount) if e.value is None else (e.field, "value", e.value)
                   for e in parse_edits(case["text"])]
            wanted = [(e["field"], "amount", e["amount"]) if "amount" in e else (e["field"], "value", e["value"])
                      for e in case["edits"]]
            if len(got) == len(wanted) and all(g[:2] == w[:2] and same(w[2], g[2]) for g, w in zip(got, wanted)):
                right += 1
            else:
                errors.append(f"{case['text']}\n    expected {wanted}\n    got      {got}")
    return right, total, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    warm_up()
    build_seconds = time.perf_counter() - start
    report = evaluate(args.files or DEFAULT_SETS)
    print(f"{'attribute':<16}{'expected':>9}{'parsed':>8}{'right':>7}{'recall':>8}{'precision':>11}")
    for name, s in sorted(report.scores.items()):
        print(f"{name:<16}{s.expected:>9}{s.parsed:>8}{s.right:>7}{s.recall:>8.0%}{s.precision:>11.0%}")
    total = Score(sum(s.expected for s in report.scores.values()), sum(s.parsed for s in report.scores.values()),
                  sum(s.right for s in report.scores.values()))
    print(f"{'all':<16}{total.expected:>9}{total.parsed:>8}{total.right:>7}{total.recall:>8.0%}"
          f"{total.precision:>11.0%}")
    print(f"descriptions fully right: {report.exact}/{report.total}")
    edits_right, edits_total, edit_errors = evaluate_edits(EDIT_SETS if not args.files else [])
    if edits_total:
        print(f"edit requests fully right: {edits_right}/{edits_total}")
    print(f"made-up words missed: {len(report.unknown_misses)}")
    print(f"Korean analyser build and first analysis (once per process): {build_seconds:.2f} s")
    for language, seconds in sorted(report.seconds_by_language.items()):
        ordered = sorted(seconds)
        print(f"parse time {language}: mean {1000 * sum(seconds) / len(seconds):.2f} ms, "
              f"median {1000 * ordered[len(ordered) // 2]:.2f} ms, max {1000 * ordered[-1]:.2f} ms "
              f"over {len(seconds)} descriptions")
    if args.show_errors:
        for line in report.errors + report.unknown_misses + edit_errors:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
