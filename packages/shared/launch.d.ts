// Types of launch.js (plain JavaScript so that the bin shims run before, and without, the build).

/** The oldest Node that runs func (package.json "engines"). */
export declare const MIN_NODE: string;
/** Checks the Node version, enables Node's compile cache where there is one, then imports `entry`. */
export declare function launch(name: string, entry: URL): Promise<void>;
