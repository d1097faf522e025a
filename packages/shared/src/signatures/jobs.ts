// Signatures of the `jobs` module: this minion's async jobs. None of them may run as an async job itself.

import { defineModule, optional, param, t } from "./schema.js";

/** Most job records `jobs.list` returns. */
export const MAX_JOB_LIST = 10000;

export const JOBS = defineModule({
  name: "jobs",
  description: "Async jobs on this minion: status, list, purge",
  methods: {
    job_status: {
      doc: "[code, result] of an async job: 0 RUNNING (null), 1 FINISHED (the value), 2 LOST_IN_SPACE ({reason}), 4 REMOTE_ERROR ({faultCode, faultString}).",
      example: 'func "minion01" call jobs job_status 20261122T201233-5f2a9c01b7',
      params: [param("id", t.string({ max_length: 100 }), "the minion job id that async.<module>.<method> returned")],
      async_allowed: false,
    },
    list: {
      doc: "This minion's async jobs, newest first, without results: {id, method, args, status, peer, created, finished?, pid?, overlord_job?}.",
      example: 'func "minion01" call jobs list 20',
      params: [optional("limit", t.int({ min: 1, max: MAX_JOB_LIST }), "most records to return (default and maximum 10000)")],
      async_allowed: false,
    },
    purge: {
      doc: "Deletes jobs that ended more than older_than seconds ago (running jobs never); returns how many. Overlord only.",
      example: 'func "*" call jobs purge 86400',
      params: [param("older_than", t.number({ min: 0 }), "seconds since the job ended")],
      async_allowed: false,
    },
  },
});
