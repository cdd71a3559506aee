#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Java Double.toString oracle: nfm's rendering (output/java_double) vs a real JDK 17 (the JDK
the CICFlowMeter reference outputs were made with) on ~400k doubles: CIC-like values (rates,
ratios, means, square roots, µs durations, short decimals) must match exactly; random bit
patterns are counted by magnitude. JDK <= 18 does not always print the shortest digits
(FloatingDecimal); all differences are expected at |x| >= 1e16 or subnormal, where CIC columns
do not go. Exit 0 pass, 1 fail, 77 skipped (no javac/java 17 found; printed).
"""
import argparse
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

JAVA_SRC = r"""
import java.io.*;
public class D {
  public static void main(String[] a) throws Exception {
    BufferedReader r = new BufferedReader(new InputStreamReader(System.in));
    PrintWriter w = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out)));
    for (String s; (s = r.readLine()) != null; )
      w.println(s + " " + Double.toString(Double.longBitsToDouble(Long.parseUnsignedLong(s, 16))));
    w.flush();
  }
}
"""


def find_jdk():
    for home in ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64", os.environ.get("JAVA_HOME", "")):
        if home and os.access(os.path.join(home, "bin", "javac"), os.X_OK):
            return os.path.join(home, "bin")
    return None


def hexd(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", x))[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    args = ap.parse_args()
    jdk = find_jdk()
    if not jdk:
        print("SKIP: no JDK 17 (javac) found under /usr/lib/jvm or $JAVA_HOME: the Java Double.toString oracle "
              "needs the JDK the reference outputs were made with (apt install openjdk-17-jdk-headless)")
        return 77
    rng = random.Random(20260312)
    like = []
    for _ in range(60000):
        a, b = rng.randrange(0, 10**6), rng.randrange(1, 10**9)
        like += [a / (b / 1e6), a / b, math.sqrt(a * b), b / 1e6, float(a) / max(1, rng.randrange(1, 100))]
    for i in range(1, 40000):
        like += [i / 1000.0, i * 1e-3, i / 1e4, float(i * 1000003)]
    for e in range(-12, 16):
        for m in range(1, 100):
            like.append(float(f"{m}e{e}"))
    like = [x for x in like if x == 0.0 or 1e-300 < abs(x) < 1e16]
    rand = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(100000)]
    rand = [x for x in rand if not math.isnan(x)]
    lines = [hexd(x) for x in like + rand]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "D.java"), "w") as f:
            f.write(JAVA_SRC)
        subprocess.run([os.path.join(jdk, "javac"), "D.java"], cwd=tmp, check=True)
        inp = "\n".join(lines) + "\n"
        java = subprocess.run([os.path.join(jdk, "java"), "-cp", tmp, "D"], input=inp, capture_output=True,
                              text=True, check=True).stdout.split("\n")
        ours = subprocess.run([args.tool], input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
    bad_like, big, small = [], 0, 0
    for i, (j, o) in enumerate(zip(java, ours)):
        if j == o:
            continue
        if i < len(like):
            bad_like.append((j, o))
        else:
            x = abs(struct.unpack("<d", struct.pack("<Q", int(j.split()[0], 16)))[0])
            if x >= 1e16 or x < 2.2250738585072014e-308:
                big += 1
            else:
                small += 1
    print(f"CIC-like values: {len(like)} compared, {len(bad_like)} differ")
    print(f"random bit patterns: {len(rand)} compared, {big} differ at |x| >= 1e16 or subnormal (FloatingDecimal, "
          f"not emulated), {small} differ elsewhere")
    for j, o in bad_like[:10]:
        print(f"  java {j}  nfm {o}")
    return 0 if not bad_like and small == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
