export { ShareLedger, readPage, planRoutes, foldLines, describeAnomaly, type Anomaly, type AnomalyKind } from "./accounting.js";
export { leavesUnder, routeTable, loadMap, saveMap, mapFromAnswers, renderMap } from "./map.js";
export { runShare, readShare, runParams, shareDeadlineMs, pollInterval, type SendToSub, type ShareCall } from "./share.js";
export { buildMap, type BuiltMap } from "./build-map.js";
