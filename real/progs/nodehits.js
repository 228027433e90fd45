// A node http server with a hit counter in memory (real/nodehits.py): GET /hit counts and answers
// "hit N T" (T: the ticks of a 10 ms interval timer so far); GET /peek answers the same without counting.
// It listens on 127.0.0.1:PORT (argv[2]); on SIGTERM it writes done.txt ("done HITS") and exits 0.
'use strict';
const http = require('http');
const fs = require('fs');

const port = Number(process.argv[2]);
let hits = 0;
let ticks = 0;
setInterval(() => { ticks++; }, 10);

const server = http.createServer((req, res) => {
	if (req.url === '/hit')
		hits++;
	else if (req.url !== '/peek') {
		res.writeHead(404);
		res.end();
		return;
	}
	res.writeHead(200, { 'Content-Type': 'text/plain' });
	res.end(`hit ${hits} ${ticks}\n`);
});
server.listen(port, '127.0.0.1', () => { fs.writeFileSync('listening', `${port}\n`); });
process.on('SIGTERM', () => {
	fs.writeFileSync('done.txt', `done ${hits}\n`);
	server.close(() => process.exit(0));
	setTimeout(() => process.exit(0), 2000).unref();
});
