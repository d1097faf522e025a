// Test helper process: opens the overlord job store in `dir`, records `count` hosts of job `id` (a minion job
// id each, then a result each), and exits. Many at once check that concurrent writers lose nothing.

import { newJobId } from "@func/shared";
import { JobStore } from "@func/overlord/job-store";

const [dir, id, prefix, count] = process.argv.slice(2);
const store = await JobStore.open(dir!);
for (let i = 0; i < Number(count); i++) {
  const host = `${prefix}${i}`;
  await store.recordMinionJob(id!, host, newJobId());
  await store.recordFinal(id!, host, { outcome: "ok", value: i });
}
await store.close();
