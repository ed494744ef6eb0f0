#!/usr/bin/env node
// The TypeScript sources run directly under Node 24's type stripping.
import "../src/cli/main.ts";
