import json, sys, os
base = sys.argv[1]; cmp = sys.argv[2]
rules = [r for r in ["none", "sam", "asam", "saf", "mesa"] if os.path.exists(f"{base}/{r}/sharpness.json")]
rows = []
for r in rules:
    d = json.load(open(f"{base}/{r}/sharpness.json"))
    s = {x["metric"]: x for x in d["sharpness"]["definitions"]}
    h = d["hessian"]
    summ = json.load(open(f"{cmp}/{r}/summary.json"))["final"] if os.path.exists(f"{cmp}/{r}/summary.json") else {}
    rows.append((r, summ, d, s, h))
print("| rule | test acc | train loss | lambda_max (Lanczos) | lambda_max (power) | trace (Hutchinson +- SE) | ||H||_F | dir. sharpness u=-g (normalised) | worst adaptive Linf (rho 0.002) | worst adaptive L2 (rho 0.5) | worst std L2 (0.5) | worst std Linf (0.001) | avg adaptive L2 (0.1) | avg adaptive Linf (0.2) | avg std L2 (0.1) | avg std Linf (0.2) |")
print("|" + "---|" * 16)
for r, summ, d, s, h in rows:
    f = lambda m: f"{s[m]['value']:.4g} +- {s[m]['stdErrorOverBatches']:.2g}" if m in s else "-"
    print(f"| {'SGD' if r=='none' else r.upper()} | {summ.get('testAccuracy', float('nan')):.4f} | {summ.get('trainLoss', float('nan')):.4f} | "
          f"{h['topEigenvalue']['value']:.4f} | {h['topEigenvaluePower']['value']:.4f} | {h['trace']['value']:.1f} +- {h['trace']['stdError']:.1f} | "
          f"{h['trace']['frobeniusNorm']:.2f} | {h['directionalSharpness']['normalizedCurvature']:.4f} | "
          f"{f('worstCaseAdaptiveLinf')} | {f('worstCaseAdaptiveL2')} | {f('worstCaseStandardL2')} | {f('worstCaseStandardLinf')} | "
          f"{f('averageCaseAdaptiveL2')} | {f('averageCaseAdaptiveLinf')} | {f('averageCaseStandardL2')} | {f('averageCaseStandardLinf')} |")
print()
print("| rule | passes (total) | wall s (total) | sharpness stage s | Lanczos iters/passes/s | power iters/passes/s | Hutchinson passes/s | SLQ passes/s | directional passes/s |")
print("|" + "---|" * 9)
for r, summ, d, s, h in rows:
    g = lambda k: h[k]
    print(f"| {r} | {d['totalPasses']} | {d['totalSeconds']:.0f} | {d['sharpness']['wallSeconds']:.0f} | "
          f"{g('topEigenvalue')['iterations']}/{g('topEigenvalue')['passes']}/{g('topEigenvalue')['seconds']:.0f} | "
          f"{g('topEigenvaluePower')['iterations']}/{g('topEigenvaluePower')['passes']}/{g('topEigenvaluePower')['seconds']:.0f} | "
          f"{g('trace')['passes']}/{g('trace')['seconds']:.0f} | {g('spectralDensity')['passes']}/{g('spectralDensity')['seconds']:.0f} | "
          f"{g('directionalSharpness')['passes']}/{g('directionalSharpness')['seconds']:.0f} |")
