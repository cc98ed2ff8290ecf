#!/usr/bin/env node
// The sabre server: see src/server/main.ts. Runs the compiled build (`npm run build`, or `npm start`).
import '../dist/src/server/main.js';
