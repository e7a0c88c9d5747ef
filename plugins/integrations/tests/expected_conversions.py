#!/usr/bin/env python3
"""The conversions tst_integrations expects, computed independently of the plugin with Python's
decimal module at 100 digits.

stdin:  {"usd_values": {"USD": "1", "BTC": "67187.33", ...}, "decimals": {"USD": 2, ...},
         "cases": [{"amount": "100", "from": "USD", "to": "BTC"}, ...]}
stdout: [{"result": "0.00148838", "rate": "0.000014883..."}, ...]   (one per case, in order)

result = amount x p(from) / p(to), rounded half-even to decimals(to), written with exactly that
many decimals; rate = p(from) / p(to), rounded half-even to 18 decimals, trailing zeros trimmed.
"""
import json
import sys
from decimal import ROUND_HALF_EVEN, Context, Decimal

CTX = Context(prec=100, rounding=ROUND_HALF_EVEN)


def fixed(d):
    """Plain notation (never an exponent), as many decimals as `d` has."""
    return format(d, "f")


def trimmed(d):
    text = fixed(d)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def main():
    data = json.load(sys.stdin)
    usd = {code: Decimal(text) for code, text in data["usd_values"].items()}
    decimals = data["decimals"]
    out = []
    for case in data["cases"]:
        ratio = CTX.divide(usd[case["from"]], usd[case["to"]])
        exact = CTX.divide(CTX.multiply(Decimal(case["amount"]), usd[case["from"]]), usd[case["to"]])
        result = exact.quantize(Decimal(1).scaleb(-decimals[case["to"]]), context=CTX)
        rate = ratio.quantize(Decimal(1).scaleb(-18), context=CTX)
        out.append({"result": fixed(result), "rate": trimmed(rate)})
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
