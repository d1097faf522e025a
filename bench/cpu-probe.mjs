// Preloaded (node --import) into every timed process, func and floor alike: at exit, writes the CPU time
// the process and its waited-for children (forked buckets) used to $BENCH_CPU_FILE as JSON.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.env.BENCH_CPU_FILE;
if (file) {
  delete process.env.BENCH_CPU_FILE; // forked children would overwrite it
  process.on("exit", () => {
    const self = process.cpuUsage();
    let children = 0;
    try {
      // fields 16 and 17 of /proc/self/stat: cutime, cstime in clock ticks (100 per second on Linux)
      const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
      children = ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
    } catch {
      // not Linux: children unknown
    }
    writeFileSync(file, JSON.stringify({ selfMs: (self.user + self.system) / 1000, childrenMs: children }));
  });
}
