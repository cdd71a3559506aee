// SPDX-License-Identifier: MIT
// nfm-xdp entry point (being written).
int main() { return 0; }
