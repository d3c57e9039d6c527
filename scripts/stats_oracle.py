"""Record reference values for `bascule-stats` from scikit-learn, scipy, numpy and
statsmodels, as JSON cases under crates/stats/tests/data/.

Run from the repository root, by hand, whenever a case is added or a reference
library is upgraded:

    /work/pyenv/bin/python scripts/stats_oracle.py            # every file
    /work/pyenv/bin/python scripts/stats_oracle.py logistic   # only logistic.json

The integration test `crates/stats/tests/it` reads every file written here and
asserts the crate's results equal the recorded ones to 1e-9 relative (the logistic
regression, fitted on rows of datasets/rainfall/rainfall.csv that the test reads
itself: parameters to 1e-7 and probabilities to 1e-9 absolute).

Inputs are deterministic. Small and medium inputs come from seeded numpy generators
and are stored verbatim (floats as their shortest round-trip repr). Large inputs
(KS samples up to tens of thousands of values) are stored as a *generator spec*
instead: the crate's own documented xoshiro256** generator (re-implemented below,
bit for bit) draws integers that are turned into floats by exact arithmetic only,
so Rust regenerates the very same sample. The paired bootstrap is replayed the same
way: the same generator picks the same rows, and scikit-learn scores them.

Versions used for the committed files are written into each file's "versions".
"""

from __future__ import annotations

import csv
import json
import math
import pathlib
import sys
import warnings

import numpy as np
import scipy
import scipy.special
import scipy.stats
import sklearn
import sklearn.metrics as skm
from scipy.spatial.distance import jensenshannon
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

try:  # statsmodels is the reference for McNemar and the z-test when installed.
    import statsmodels
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
    from statsmodels.stats.multitest import multipletests as sm_multipletests
    from statsmodels.stats.proportion import proportions_ztest as sm_ztest
except ImportError:  # pragma: no cover - documented fallback
    statsmodels = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "stats" / "tests" / "data"
FIXTURES = ROOT / "fixtures"

VERSIONS = {
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "scikit-learn": sklearn.__version__,
    "statsmodels": statsmodels.__version__ if statsmodels else None,
}

MASK64 = (1 << 64) - 1

# Rows of rounded Dirichlet probabilities sum to 1 within 1e-5 only; scikit-learn 1.9
# warns (and does not renormalise), which is the behaviour under test.
warnings.filterwarnings("ignore", message="The y_prob values do not sum to one")


# --- the crate's generator, bit for bit (see crates/stats/src/rng.rs) -------------


class Xoshiro256StarStar:
    def __init__(self, seed: int):
        state = seed & MASK64
        self.s = []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & MASK64
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x: int, k: int) -> int:
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_u64(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (self._rotl((s1 * 5) & MASK64, 7) * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = self._rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, bound: int) -> int:
        if bound == 0:
            return 0
        product = self.next_u64() * bound
        low = product & MASK64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                product = self.next_u64() * bound
                low = product & MASK64
        return product >> 64


def generate(spec: dict) -> np.ndarray:
    """A sample from a generator spec; mirrored by `generate` in tests/it/main.rs."""
    rng = Xoshiro256StarStar(spec["seed"])
    draws = 4 if spec["kind"] == "irwin_hall" else 1
    values = []
    for _ in range(spec["n"]):
        total = 0
        for _ in range(draws):
            total += rng.below(spec["modulus"])
        values.append(float(total) * spec["scale"] + spec["shift"])
    return np.array(values, dtype=np.float64)


# --- helpers ---------------------------------------------------------------------


def floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def write(name: str, cases) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"versions": VERSIONS, "cases": cases}
    path = OUT / name
    path.write_text(json.dumps(payload, separators=(",", ":"), allow_nan=False) + "\n")
    print(f"{path.relative_to(ROOT)}: {len(cases)} cases, {path.stat().st_size} bytes")


def load_fixture(name: str):
    with open(FIXTURES / name / "holdout.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labels = np.array([float(row["label"]) for row in rows])
    expected = json.loads((FIXTURES / name / "expected.json").read_text())
    outputs = {}
    for output, tensor in expected["outputs"].items():
        dtype = np.float32 if tensor["datatype"] == "FP32" else np.int64
        data = np.array(tensor["data"], dtype=dtype).astype(np.float64)
        outputs[output] = data.reshape([len(labels) if d == -1 else d for d in tensor["shape"]])
    return labels, outputs


# --- metrics ---------------------------------------------------------------------


def binary_expected(y_true, y_pred, scores, probabilities):
    expected = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        "log_loss": skm.log_loss(y_true, probabilities, labels=[0.0, 1.0]),
        "brier": skm.brier_score_loss(y_true, probabilities, labels=[0.0, 1.0]),
    }
    if len(np.unique(y_true)) == 2:
        expected["roc_auc"] = skm.roc_auc_score(y_true, scores)
    return {key: float(value) for key, value in expected.items()}


def binary_cases():
    cases = []
    for name in ["logistic", "mlp", "weak"]:
        y_true, outputs = load_fixture(name)
        probability = outputs["probabilities"][:, 1]
        y_pred = outputs["label"]
        cases.append({"name": f"fixture-{name}", "y_true": floats(y_true), "y_pred": floats(y_pred),
                      "scores": floats(probability), "probabilities": floats(probability),
                      "expected": binary_expected(y_true, y_pred, probability, probability)})
    rng = np.random.default_rng(20240601)
    for n, tie_decimals in [(2, None), (3, None), (7, 1), (50, 1), (200, 2), (1000, None), (5000, 3)]:
        y_true = (rng.random(n) < 0.4).astype(float)
        if len(np.unique(y_true)) < 2:
            y_true[0], y_true[-1] = 0.0, 1.0
        logits = rng.normal(size=n) + 1.5 * (y_true - 0.5)
        probability = 1.0 / (1.0 + np.exp(-logits))
        if tie_decimals is not None:
            probability = np.round(probability, tie_decimals)
        y_pred = (probability >= 0.5).astype(float)
        cases.append({"name": f"synthetic-n{n}", "y_true": floats(y_true), "y_pred": floats(y_pred),
                      "scores": floats(logits if tie_decimals is None else probability),
                      "probabilities": floats(probability),
                      "expected": binary_expected(y_true, y_pred, logits if tie_decimals is None else probability, probability)})
    # zero_division: nothing predicted positive; certain (clipped) probabilities.
    y_true = np.array([0, 1, 0, 1, 1], dtype=float)
    y_pred = np.zeros(5)
    probability = np.array([0.0, 1.0, 1.0, 0.0, 0.5])
    cases.append({"name": "no-positive-predictions-and-clipping", "y_true": floats(y_true), "y_pred": floats(y_pred),
                  "scores": floats(probability), "probabilities": floats(probability),
                  "expected": binary_expected(y_true, y_pred, probability, probability)})
    # Single class in y_true: everything but ROC AUC is defined.
    y_true = np.ones(4)
    probability = np.array([0.9, 0.2, 0.6, 0.6])
    cases.append({"name": "single-class", "y_true": floats(y_true), "y_pred": floats(probability >= 0.5),
                  "scores": floats(probability), "probabilities": floats(probability),
                  "expected": binary_expected(y_true, (probability >= 0.5).astype(float), probability, probability)})
    return cases


def multiclass_cases():
    cases = []
    rng = np.random.default_rng(7)
    for n, k in [(6, 3), (60, 3), (300, 4), (1000, 5), (40, 2)]:
        probabilities = rng.dirichlet(np.ones(k) * 0.8, size=n)
        y_true = np.array([rng.choice(k, p=row) for row in probabilities])
        y_true[:k] = np.arange(k)  # every class present
        probabilities = np.round(probabilities, 6)
        y_pred = np.argmax(probabilities + rng.normal(scale=0.1, size=probabilities.shape), axis=1)
        cases.append(multiclass_case(f"dirichlet-n{n}-k{k}", y_true, y_pred, probabilities, k))
    # A predicted class that never occurs in y_true (joins the label set, as in sklearn).
    y_true = np.array([0, 1, 2, 0, 1, 2, 0])
    y_pred = np.array([0, 3, 2, 0, 0, 2, 3])
    probabilities = np.full((7, 4), 0.25)
    cases.append(multiclass_case("extra-predicted-class", y_true, y_pred, probabilities, 4, auc=False))
    # The fixture's float32 probabilities as a two-column matrix.
    y_true, outputs = load_fixture("mlp")
    cases.append(multiclass_case("fixture-mlp-matrix", y_true.astype(int), outputs["label"].astype(int),
                                 outputs["probabilities"], 2))
    return cases


def multiclass_case(name, y_true, y_pred, probabilities, k, auc=True):
    labels = list(range(k))
    expected = {"accuracy": skm.accuracy_score(y_true, y_pred),
                "log_loss": skm.log_loss(y_true, probabilities, labels=labels),
                "brier": skm.brier_score_loss(y_true, probabilities, labels=labels)}
    for average in ["macro", "weighted"]:
        expected[f"precision_{average}"] = skm.precision_score(y_true, y_pred, average=average, zero_division=0)
        expected[f"recall_{average}"] = skm.recall_score(y_true, y_pred, average=average, zero_division=0)
        expected[f"f1_{average}"] = skm.f1_score(y_true, y_pred, average=average, zero_division=0)
    if auc:
        if k == 2:
            expected["roc_auc_ovr"] = skm.roc_auc_score(y_true, probabilities[:, 1])
        else:
            expected["roc_auc_ovr"] = skm.roc_auc_score(y_true, probabilities, multi_class="ovr", average="macro")
    return {"name": name, "n_classes": k, "y_true": [int(v) for v in y_true], "y_pred": [int(v) for v in y_pred],
            "probabilities": floats(probabilities), "expected": {key: float(v) for key, v in expected.items()}}


def regression_case(name, y_true, y_pred):
    return {"name": name, "y_true": floats(y_true), "y_pred": floats(y_pred), "expected": {
        "mse": float(skm.mean_squared_error(y_true, y_pred)),
        "rmse": float(skm.root_mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)),
        "mean_error": float(np.mean(np.asarray(y_pred) - np.asarray(y_true))),
    }}


def regression_cases():
    y_true, outputs = load_fixture("linear")
    cases = [regression_case("fixture-linear", y_true, outputs["variable"].ravel())]
    rng = np.random.default_rng(11)
    for n in [2, 10, 500]:
        y_true = rng.normal(loc=100.0, scale=15.0, size=n)
        cases.append(regression_case(f"synthetic-n{n}", y_true, y_true + rng.normal(scale=5.0, size=n)))
    cases.append(regression_case("constant-truth-perfect", [4.0, 4.0, 4.0], [4.0, 4.0, 4.0]))
    cases.append(regression_case("constant-truth-imperfect", [4.0, 4.0, 4.0], [4.0, 5.0, 4.0]))
    return cases


# --- paired comparisons ----------------------------------------------------------


def mcnemar_reference(b: int, c: int) -> dict:
    table = np.array([[10, b], [c, 7]])
    if statsmodels is not None:
        exact = sm_mcnemar(table, exact=True).pvalue
        corrected = sm_mcnemar(table, exact=False, correction=True)
        uncorrected = sm_mcnemar(table, exact=False, correction=False)
        values = (corrected.statistic, corrected.pvalue, uncorrected.statistic, uncorrected.pvalue)
    else:  # the same formulas with scipy
        exact = min(1.0, 2 * scipy.stats.binom.cdf(min(b, c), b + c, 0.5))
        s_corr = (abs(b - c) - 1) ** 2 / (b + c)
        s_unc = (b - c) ** 2 / (b + c)
        values = (s_corr, scipy.stats.chi2.sf(s_corr, 1), s_unc, scipy.stats.chi2.sf(s_unc, 1))
    return {"statistic_corrected": float(values[0]), "pvalue_corrected": float(values[1]),
            "statistic_uncorrected": float(values[2]), "pvalue_uncorrected": float(values[3]),
            "pvalue_exact": float(exact)}


BOOTSTRAP_METRICS = {
    "accuracy": lambda y, p: skm.accuracy_score(y, p),
    "roc_auc": lambda y, p: skm.roc_auc_score(y, p),
    "log_loss": lambda y, p: skm.log_loss(y, p, labels=[0.0, 1.0]),
    "brier": lambda y, p: skm.brier_score_loss(y, p, labels=[0.0, 1.0]),
    "rmse": lambda y, p: skm.root_mean_squared_error(y, p),
}


def bootstrap_reference(y_true, a, b, metric, n_resamples, confidence, seed):
    score = BOOTSTRAP_METRICS[metric]
    rng = Xoshiro256StarStar(seed)
    n = len(y_true)
    differences, failed = [], 0
    for _ in range(n_resamples):
        rows = np.array([rng.below(n) for _ in range(n)])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                differences.append(score(y_true[rows], a[rows]) - score(y_true[rows], b[rows]))
        except (ValueError, Warning):
            failed += 1
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(differences, [alpha * 100.0, (1.0 - alpha) * 100.0])
    return {"estimate": float(score(y_true, a) - score(y_true, b)), "low": float(low), "high": float(high),
            "n_used": len(differences), "n_failed": failed}


def paired_cases():
    mcnemar_cases = [{"b": b, "c": c, "expected": mcnemar_reference(b, c)}
                     for b, c in [(0, 1), (1, 0), (3, 3), (2, 9), (12, 12), (7, 17), (30, 12), (100, 60),
                                  (500, 420), (2000, 1700), (40, 1)]]
    y_true, strong = load_fixture("logistic")
    _, weak = load_fixture("weak")
    strong_p, weak_p = strong["probabilities"][:, 1], weak["probabilities"][:, 1]
    bootstrap_cases = []
    for metric, a, b, seed in [("accuracy", strong["label"], weak["label"], 1),
                               ("roc_auc", strong_p, weak_p, 2),
                               ("log_loss", strong_p, weak_p, 3),
                               ("brier", strong_p, weak_p, 4)]:
        bootstrap_cases.append({"metric": metric, "seed": seed, "n_resamples": 300, "confidence": 0.95,
                                "y_true": floats(y_true), "a": floats(a), "b": floats(b),
                                "expected": bootstrap_reference(y_true, a, b, metric, 300, 0.95, seed)})
    # Tiny: some resamples hold one class, where ROC AUC is undefined and skipped.
    y_small = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    a_small = np.array([0.2, 0.9, 0.4, 0.1, 0.6, 0.7])
    b_small = np.array([0.5, 0.5, 0.3, 0.2, 0.4, 0.1])
    bootstrap_cases.append({"metric": "roc_auc", "seed": 99, "n_resamples": 200, "confidence": 0.9,
                            "y_true": floats(y_small), "a": floats(a_small), "b": floats(b_small),
                            "expected": bootstrap_reference(y_small, a_small, b_small, "roc_auc", 200, 0.9, 99)})
    y_true, linear = load_fixture("linear")
    shifted = linear["variable"].ravel() + 3.0
    bootstrap_cases.append({"metric": "rmse", "seed": 2024, "n_resamples": 300, "confidence": 0.8,
                            "y_true": floats(y_true), "a": floats(linear["variable"].ravel()), "b": floats(shifted),
                            "expected": bootstrap_reference(y_true, linear["variable"].ravel(), shifted, "rmse",
                                                            300, 0.8, 2024)})
    return [{"mcnemar": mcnemar_cases, "bootstrap": bootstrap_cases}]


def percentile_cases():
    rng = np.random.default_rng(3)
    qs = [0.0, 1.0, 10.0, 25.0, 33.3, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0]
    samples = {"single": [42.0], "pair": [1.0, 2.0], "ties": [3.0, 1.0, 3.0, 3.0, 2.0, 1.0],
               "latency-lognormal": np.round(rng.lognormal(mean=3.0, sigma=0.6, size=1000), 3),
               "uniform-333": rng.random(333)}
    return [{"name": name, "values": floats(values), "qs": qs,
             "expected": floats(np.percentile(np.asarray(values, dtype=float), qs))}
            for name, values in samples.items()]


# --- drift -----------------------------------------------------------------------


def ks_expected(x, y):
    expected = {}
    for method in ["auto", "exact", "asymp"]:
        if method == "asymp" and len(x) == 1 and len(y) == 1:
            continue  # effective size rounds to 0: scipy returns NaN, the crate an error
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = scipy.stats.ks_2samp(x, y, method=method)
        fell_back = any("Switching to" in str(w.message) or "not possible" in str(w.message) for w in caught)
        used = "asymp" if method == "asymp" or fell_back else "exact"
        if method == "auto":
            used = "exact" if max(len(x), len(y)) <= 10000 else "asymp"
        expected[method] = {"statistic": float(result.statistic), "pvalue": float(result.pvalue),
                            "location": float(result.statistic_location), "sign": int(result.statistic_sign),
                            "method_used": used}
    return expected


def ks_cases():
    cases = []
    rng = np.random.default_rng(5)
    small = [(1, 1, 0.0), (1, 2, 0.0), (2, 3, 1.0), (3, 3, 0.0), (5, 7, 0.5), (10, 10, 0.0), (10, 10, 2.0),
             (20, 30, 0.3), (50, 50, 0.2), (100, 80, 0.0), (200, 300, 0.25), (37, 1000, 0.4), (400, 400, 1.5),
             (500, 700, 0.1), (1000, 1500, 0.05)]
    for n1, n2, shift in small:
        x = np.round(rng.normal(size=n1), 6)
        y = np.round(rng.normal(loc=shift, size=n2), 6)
        cases.append({"name": f"normal-{n1}-{n2}-shift{shift}", "x": floats(x), "y": floats(y),
                      "expected": ks_expected(x, y)})
    for n1, n2, levels in [(30, 40, 5), (300, 200, 10), (1000, 999, 4)]:
        x = rng.integers(0, levels, size=n1).astype(float)
        y = rng.integers(0, levels + 1, size=n2).astype(float)
        cases.append({"name": f"ties-{n1}-{n2}-levels{levels}", "x": floats(x), "y": floats(y),
                      "expected": ks_expected(x, y)})
    x = np.array([1.0, 2.0, 3.0, 4.0])
    cases.append({"name": "identical", "x": floats(x), "y": floats(x), "expected": ks_expected(x, x)})
    # Large samples from the crate's generator: exact (equal and unequal sizes) at the
    # auto limit, and asymptotic above it, down to p-values far in the tail.
    specs = [
        ({"seed": 1, "n": 10000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.0},
         {"seed": 2, "n": 10000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.02}),
        ({"seed": 3, "n": 10000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.0},
         {"seed": 4, "n": 7000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.0}),
        ({"seed": 5, "n": 12000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.0},
         {"seed": 6, "n": 3000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.01}),
        ({"seed": 7, "n": 20000, "kind": "uniform", "modulus": 1000, "scale": 0.001, "shift": 0.0},
         {"seed": 8, "n": 20000, "kind": "uniform", "modulus": 1000, "scale": 0.001, "shift": 0.0}),
        ({"seed": 9, "n": 30000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.0},
         {"seed": 10, "n": 25000, "kind": "irwin_hall", "modulus": 1 << 40, "scale": 2.0 ** -40, "shift": 0.2}),
        ({"seed": 11, "n": 15000, "kind": "uniform", "modulus": 1 << 50, "scale": 2.0 ** -50, "shift": 0.0},
         {"seed": 12, "n": 11000, "kind": "uniform", "modulus": 1 << 50, "scale": 2.0 ** -50, "shift": 0.003}),
    ]
    for x_spec, y_spec in specs:
        x, y = generate(x_spec), generate(y_spec)
        cases.append({"name": f"generated-{x_spec['n']}-{y_spec['n']}-seed{x_spec['seed']}",
                      "x_spec": x_spec, "y_spec": y_spec, "expected": ks_expected(x, y)})
    return cases


def kolmogorov_cases():
    """kstwo.sf(x, n) over every branch of scipy's kolmogn, and kstwobign.sf."""
    cases = []
    sizes = [1, 2, 3, 5, 10, 25, 50, 100, 140, 141, 300, 1000, 5000, 20000, 100000, 100001, 400000, 2000000]
    for n in sizes:
        xs = {0.5 / n, 0.75 / n, 1.0 / n, 1.5 / n, 0.5, 0.6, 0.9, 1.0 - 1.0 / n, 1.0 - 0.5 / n}
        for z in [0.1, 0.3, 0.5, 0.8, 0.868, 0.9, 1.0, 1.2, 1.4, 1.48, 1.6, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 19.0]:
            xs.add(z / math.sqrt(n))
        for t in [0.9, 1.4]:
            xs.add((t / n) ** (2.0 / 3.0))
        for x in sorted(xs):
            if 0.0 < x < 1.0:
                cases.append({"n": n, "x": x, "sf": float(scipy.stats.kstwo.sf(x, n))})
    limit = [{"x": x, "sf": float(scipy.stats.kstwobign.sf(x))}
             for x in [0.03, 0.05, 0.1, 0.3, 0.5, 0.8, 0.82, 0.83, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 20.0]]
    return [{"kstwo": cases, "kstwobign": limit}]


def distance_cases():
    rng = np.random.default_rng(13)
    cases = []
    for n1, n2, shift, decimals in [(1, 1, 1.0, None), (1, 5, 0.0, None), (10, 12, 0.5, 1), (300, 250, 0.2, None),
                                    (2000, 1500, 1.0, 2)]:
        u = np.round(rng.normal(size=n1), 6)
        v = np.round(rng.normal(loc=shift, scale=1.3, size=n2), 6)
        if decimals is not None:
            u, v = np.round(u, decimals), np.round(v, decimals)
        u_weights = np.round(rng.random(n1) + 0.05, 4)
        v_weights = np.round(rng.random(n2) + 0.05, 4)
        expected = {"wasserstein": scipy.stats.wasserstein_distance(u, v),
                    "weighted": scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)}
        if np.std(u) > 0:
            expected["normalized"] = scipy.stats.wasserstein_distance(u, v) / np.std(u)
        cases.append({"name": f"normal-{n1}-{n2}", "u": floats(u), "v": floats(v), "u_weights": floats(u_weights),
                      "v_weights": floats(v_weights), "expected": {k: float(e) for k, e in expected.items()}})
    return cases


PSI_EPSILON = 1e-4


def binned_reference(reference, current, n_bins=None, edges=None):
    if edges is None:
        edges = np.unique(np.quantile(reference, np.arange(1, n_bins) / n_bins))
    edges = np.asarray(edges, dtype=float)
    bins = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins) / len(reference)
    q = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins) / len(current)
    p_floor, q_floor = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return {"edges": floats(edges), "reference_proportions": floats(p), "current_proportions": floats(q),
            "psi": float(np.sum((q_floor - p_floor) * np.log(q_floor / p_floor))),
            "js_natural": float(jensenshannon(p, q)), "js_base2": float(jensenshannon(p, q, base=2))}


def binned_cases():
    rng = np.random.default_rng(17)
    cases = []
    for n1, n2, shift, n_bins, decimals in [(100, 80, 0.0, 10, None), (1000, 1200, 0.3, 10, None),
                                            (500, 500, 1.0, 5, 1), (50, 3000, -2.5, 10, None),
                                            (400, 300, 0.0, 20, 0)]:
        reference = np.round(rng.normal(size=n1), 6)
        current = np.round(rng.normal(loc=shift, size=n2), 6)
        if decimals is not None:
            reference, current = np.round(reference, decimals), np.round(current, decimals)
        cases.append({"name": f"quantile-{n1}-{n2}-bins{n_bins}", "reference": floats(reference),
                      "current": floats(current), "n_bins": n_bins,
                      "expected": binned_reference(reference, current, n_bins=n_bins)})
    reference = np.round(rng.exponential(size=300), 6)
    current = np.round(rng.exponential(scale=1.5, size=200), 6)
    edges = [0.1, 0.5, 1.0, 2.0, 4.0]
    cases.append({"name": "fixed-edges", "reference": floats(reference), "current": floats(current), "edges": edges,
                  "expected": binned_reference(reference, current, edges=edges)})
    constant = np.full(50, 3.0)
    current = np.round(rng.normal(3, 1, 40), 1)
    cases.append({"name": "constant-reference", "reference": floats(constant), "current": floats(current),
                  "n_bins": 10, "expected": binned_reference(constant, current, n_bins=10)})
    return cases


def contingency_expected(table, correction):
    result = scipy.stats.chi2_contingency(np.asarray(table, dtype=float), correction=correction)
    expected = {"statistic": float(result.statistic), "pvalue": float(result.pvalue), "dof": int(result.dof)}
    if min(np.shape(table)) > 1 and np.all(np.mod(table, 1) == 0):
        expected["cramers_v"] = float(scipy.stats.contingency.association(np.asarray(table), method="cramer"))
    return expected


def ztest_reference(count_1, n_1, count_2, n_2):
    if statsmodels is not None:
        statistic, pvalue = sm_ztest([count_1, count_2], [n_1, n_2])
    else:  # the pooled formula, with scipy's normal distribution
        pooled = (count_1 + count_2) / (n_1 + n_2)
        statistic = (count_1 / n_1 - count_2 / n_2) / math.sqrt(pooled * (1 - pooled) * (1 / n_1 + 1 / n_2))
        pvalue = 2 * scipy.stats.norm.sf(abs(statistic))
    return {"statistic": float(statistic), "pvalue": float(pvalue)}


def categorical_cases():
    tables = [[[12, 3], [17, 16]], [[10, 10], [10, 10]], [[10, 10.2], [10, 10]], [[1, 0], [2, 3]],
              [[500, 380], [420, 510]], [[10, 20, 30], [6, 9, 17]], [[120, 90, 40, 11], [100, 110, 51, 30]],
              [[3, 9, 2], [4, 1, 8], [7, 2, 2], [5, 5, 1]], [[5, 7, 9]], [[20000, 1], [19000, 400]]]
    contingency = [{"table": [[float(v) for v in row] for row in table], "correction": correction,
                    "expected": contingency_expected(table, correction)}
                   for table in tables for correction in [True, False]]
    goodness = []
    for observed, proportions in [([16, 18, 16, 14, 12, 12], [1, 1, 1, 1, 1, 1]),
                                  ([43, 52, 54, 40], [0.2, 0.3, 0.3, 0.2]),
                                  ([100, 10, 0, 5], [0.5, 0.25, 0.125, 0.125]),
                                  ([900, 50, 50], [0.7, 0.2, 0.1]), ([30000, 500, 20], [0.5, 0.3, 0.2])]:
        observed = np.asarray(observed, dtype=float)
        proportions = np.asarray(proportions, dtype=float)
        f_exp = proportions / proportions.sum() * observed.sum()
        result = scipy.stats.chisquare(observed, f_exp)
        goodness.append({"observed": floats(observed), "proportions": floats(proportions),
                         "expected": {"statistic": float(result.statistic), "pvalue": float(result.pvalue),
                                      "dof": len(observed) - 1}})
    ztests = [{"counts": [c1, n1, c2, n2], "expected": ztest_reference(c1, n1, c2, n2)}
              for c1, n1, c2, n2 in [(83, 100, 75, 100), (5, 10, 5, 10), (1, 50, 12, 60), (4000, 10000, 4200, 10000),
                                     (50000, 100000, 45000, 100000), (0, 30, 3, 30)]]
    return [{"contingency": contingency, "goodness_of_fit": goodness, "ztest": ztests}]


def multiple_cases():
    """Adjusted p-values: scipy's false_discovery_control (BH) and statsmodels'
    multipletests (fdr_bh, bonferroni), which must agree with each other."""
    rng = np.random.default_rng(23)
    families = {
        "single": [0.03],
        "documented": [0.04, 0.001, 0.5, 0.01],
        "ties": [0.01, 0.01, 0.2, 0.2, 0.2, 0.9],
        "extremes": [0.0, 1.0, 1e-300, 0.5, 1e-12],
        "uniform-25": floats(rng.uniform(size=25)),
        "mixed-40": floats(np.concatenate([rng.uniform(size=30), rng.uniform(high=1e-4, size=10)])),
        "tiny-200": floats(rng.uniform(high=1e-3, size=200)),
    }
    cases = []
    for name, pvalues in families.items():
        ps = np.asarray(pvalues, dtype=float)
        bh = scipy.stats.false_discovery_control(ps, method="bh")
        expected = {"bh": floats(bh), "bonferroni": floats(np.minimum(ps * len(ps), 1.0))}
        if statsmodels is not None:
            _, sm_bh, _, _ = sm_multipletests(ps, method="fdr_bh")
            _, sm_bonferroni, _, _ = sm_multipletests(ps, method="bonferroni")
            assert np.allclose(sm_bh, bh, rtol=1e-12, atol=0), name
            expected["bonferroni"] = floats(sm_bonferroni)
        cases.append({"name": name, "pvalues": floats(ps), "expected": expected})
    return cases


def special_cases():
    chi2 = []
    for dof in [1, 2, 3, 4, 5, 9, 10, 30, 99, 100, 1000, 4999]:
        for factor in [1e-6, 0.01, 0.1, 0.5, 0.9, 1.0, 1.1, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0]:
            x = dof * factor
            chi2.append({"x": x, "dof": dof, "sf": float(scipy.stats.chi2.sf(x, dof))})
        for x in [50.0, 200.0, 700.0, 1400.0]:
            chi2.append({"x": x, "dof": dof, "sf": float(scipy.stats.chi2.sf(x, dof))})
    normal = [{"z": z, "sf": float(scipy.stats.norm.sf(z)), "two_sided": float(2 * scipy.stats.norm.sf(abs(z)))}
              for z in [-8.0, -3.0, -1.0, -0.1, 0.0, 1e-3, 0.5, 1.0, 1.96, 2.5, 4.0, 6.0, 8.5, 12.0, 20.0, 37.0]]
    binomial = [{"k": k, "n": n, "cdf": float(scipy.stats.binom.cdf(k, n, 0.5))}
                for k, n in [(0, 1), (0, 5), (2, 5), (3, 5), (7, 24), (12, 24), (10, 100), (49, 100), (400, 1000),
                             (0, 1100), (500, 1100), (4800, 10000), (30000, 100000)]]
    return [{"chi2_sf": chi2, "normal": normal, "binomial_half_cdf": binomial}]


# --- logistic regression ------------------------------------------------------------


RAINFALL = ROOT / "datasets" / "rainfall" / "rainfall.csv"


def read_rainfall():
    """The vendored NOAA data set: a leading unnamed index column, 8 features, `rain`."""
    with open(RAINFALL, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = np.array([[float(v) for v in row[1:]] for row in reader])
    return header[1:-1], rows[:, :-1], rows[:, -1]


def logistic_reference(features, labels, c, standardize):
    """scikit-learn's StandardScaler + LogisticRegression(C=c), fitted to convergence.

    The default solver (lbfgs, tol=1e-4) stops near the optimum, not at it; the oracle
    is the optimum itself, so Newton–Cholesky runs to a gradient of 1e-12 and L-BFGS,
    run just as tightly, must agree with it."""
    if standardize:
        scaler = StandardScaler().fit(features)
        means, scales = scaler.mean_, scaler.scale_
    else:
        means, scales = np.zeros(features.shape[1]), np.ones(features.shape[1])
    scaled = (features - means) / scales
    models = [LogisticRegression(C=c, solver=solver, tol=1e-12, max_iter=10000).fit(scaled, labels)
              for solver in ["newton-cholesky", "lbfgs"]]
    exact, check = models
    assert np.allclose(exact.coef_, check.coef_, rtol=0, atol=1e-6), (exact.coef_, check.coef_)
    return means, scales, exact


def logistic_cases():
    """Fits on slices of the rainfall data; the Rust test reads the same CSV and rows."""
    names, features, labels = read_rainfall()
    cases = []
    for name, start, end, c, standardize in [("rainfall-0-6000", 0, 6000, 1.0, True),
                                             ("rainfall-12000-14000", 12000, 14000, 1.0, True),
                                             ("rainfall-raw-3000-4000-c0.05", 3000, 4000, 0.05, False)]:
        x, y = features[start:end], labels[start:end]
        means, scales, model = logistic_reference(x, y, c, standardize)
        rows = list(range(0, len(features), 997))
        probabilities = model.predict_proba((features[rows] - means) / scales)[:, 1]
        train_probabilities = model.predict_proba((x - means) / scales)[:, 1]
        cases.append({"name": name, "data": "datasets/rainfall/rainfall.csv", "feature_names": names,
                      "start": start, "end": end, "c": c, "standardize": standardize,
                      "expected": {"means": floats(means), "scales": floats(scales),
                                   "coefficients": floats(model.coef_), "intercept": float(model.intercept_[0]),
                                   "log_loss": float(skm.log_loss(y, train_probabilities)),
                                   "roc_auc": float(skm.roc_auc_score(y, train_probabilities)),
                                   "rows": rows, "probabilities": floats(probabilities)}})
    return cases


def main():
    """Writes every file, or only those named on the command line (e.g. `logistic`)."""
    files = {
        "metrics_binary": binary_cases,
        "metrics_multiclass": multiclass_cases,
        "metrics_regression": regression_cases,
        "paired": paired_cases,
        "percentile": percentile_cases,
        "ks_2samp": ks_cases,
        "kolmogorov": kolmogorov_cases,
        "distance": distance_cases,
        "binned": binned_cases,
        "categorical": categorical_cases,
        "special": special_cases,
        "multiple": multiple_cases,
        "logistic": logistic_cases,
    }
    for name in sys.argv[1:]:
        if name not in files:
            sys.exit(f"unknown oracle file '{name}'; one of: {', '.join(files)}")
    for name, cases in files.items():
        if not sys.argv[1:] or name in sys.argv[1:]:
            write(f"{name}.json", cases())
    total = sum(path.stat().st_size for path in OUT.glob("*.json"))
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
