#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// The protocol of tests/apps/xfer.py, with Node.js's net module on both ends (libuv:
// non-blocking connect, epoll), for tests/e2e/apps/node.sh. Only Node's own modules.
//
//   node xfer.js server --addr A [--port P] --ready FILE
//   node xfer.js client --addr A --port P [--conns N] [--rounds R] [--max-size B] [--seed S]
//
// Per round the client sends an 8-byte big-endian length L and L bytes; the server
// answers with the 32-byte sha256 of what it read, its 4-byte pid, and the same L bytes.
// The client checks both, half-closes after its rounds and must then read EOF. On success
// it prints one JSON line {"bytes": ..., "conns": ..., "pids": [...]}; on a mismatch it
// prints "FAIL: ..." on stderr and exits 1.
'use strict';
const net = require('net');
const fs = require('fs');
const crypto = require('crypto');

const args = { mode: process.argv[2], addr: '127.0.0.1', port: 0, conns: 4, rounds: 20,
	       'max-size': 4 * 1024 * 1024, seed: 1, ready: null };
for (let i = 3; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '');
	if (!(k in args)) {
		console.error(`xfer.js: unknown option --${k}`);
		process.exit(2);
	}
	args[k] = typeof args[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

const sha = (b) => crypto.createHash('sha256').update(b).digest();

// A byte queue fed by 'data' events, read by exact amounts.
class Queue {
	constructor() { this.bufs = []; this.len = 0; this.waiter = null; this.ended = false; }
	push(b) { this.bufs.push(b); this.len += b.length; this.wake(); }
	end() { this.ended = true; this.wake(); }
	wake() { if (this.waiter) { const w = this.waiter; this.waiter = null; w(); } }
	async take(n) { // n bytes, or null at EOF before n bytes
		while (this.len < n) {
			if (this.ended)
				return null;
			await new Promise((r) => { this.waiter = r; });
		}
		const all = Buffer.concat(this.bufs, this.len);
		this.bufs = [all.subarray(n)];
		this.len -= n;
		return all.subarray(0, n);
	}
}

function attach(sock) {
	const q = new Queue();
	sock.on('data', (b) => q.push(b));
	sock.on('end', () => q.end());
	sock.on('close', () => q.end());
	return q;
}

function server() {
	const srv = net.createServer({ allowHalfOpen: true }, async (sock) => {
		const q = attach(sock);
		sock.on('error', (e) => console.error(`xfer.js server: ${e}`));
		const ans = Buffer.alloc(36);
		for (;;) {
			const hdr = await q.take(8);
			if (hdr === null)
				break;
			const n = Number(hdr.readBigUInt64BE(0));
			const data = await q.take(n);
			if (data === null) {
				console.error('xfer.js server: EOF inside a payload');
				break;
			}
			sha(data).copy(ans, 0);
			ans.writeUInt32BE(process.pid, 32);
			sock.write(Buffer.from(ans));
			sock.write(data);
		}
		sock.end();
	});
	srv.listen(args.port, args.addr, () => {
		fs.writeFileSync(args.ready + '.tmp', `${srv.address().port}\n`);
		fs.renameSync(args.ready + '.tmp', args.ready);
	});
	process.on('SIGTERM', () => process.exit(0));
}

// A small seeded generator (mulberry32), so a failing seed can be replayed.
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

async function conn(k, res) {
	const r = rng(args.seed * 1000003 + k);
	const between = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
	const sock = net.connect({ host: args.addr, port: args.port, allowHalfOpen: true });
	const q = attach(sock);
	await new Promise((ok, fail) => { sock.once('connect', ok); sock.once('error', fail); });
	let err = null;
	sock.on('error', (e) => { err = e; q.end(); });
	for (let i = 0; i < args.rounds; i++) {
		const x = r();
		const n = x < 0.05 ? 0 : x < 0.4 ? between(1, 1500)
			: x < 0.8 ? between(1500, 128 * 1024) : between(128 * 1024, args['max-size']);
		const data = crypto.randomBytes(n);
		const hdr = Buffer.alloc(8);
		hdr.writeBigUInt64BE(BigInt(n));
		sock.write(hdr);
		sock.write(data);
		const ans = await q.take(36);
		const echo = ans && await q.take(n);
		if (echo === null)
			throw new Error(`conn ${k} round ${i}: EOF instead of the answer${err ? ` (${err})` : ''}`);
		if (!ans.subarray(0, 32).equals(sha(data)))
			throw new Error(`conn ${k} round ${i}: server's sha256 of the ${n} bytes sent differs`);
		if (!echo.equals(data))
			throw new Error(`conn ${k} round ${i}: the echo of ${n} bytes differs`);
		res.pids.add(ans.readUInt32BE(32));
		res.bytes += 2 * n;
	}
	sock.end();
	const extra = await q.take(1);
	if (extra !== null)
		throw new Error(`conn ${k}: data after the last round instead of EOF`);
	sock.destroy();
}

async function client() {
	const res = { bytes: 0, pids: new Set() };
	const out = await Promise.allSettled([...Array(args.conns).keys()].map((k) => conn(k, res)));
	const errs = out.filter((o) => o.status === 'rejected');
	if (errs.length) {
		for (const e of errs)
			console.error(`FAIL: ${e.reason.message || e.reason} (seed ${args.seed})`);
		process.exit(1);
	}
	console.log(JSON.stringify({ bytes: res.bytes, conns: args.conns, pids: [...res.pids] }));
}

if (args.mode === 'server')
	server();
else if (args.mode === 'client')
	client().catch((e) => { console.error(`FAIL: ${e.message} (seed ${args.seed})`); process.exit(1); });
else {
	console.error('usage: xfer.js server|client [--option value]...');
	process.exit(2);
}
