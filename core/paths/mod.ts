/**
 * Datasite paths and identities: the only place where an outside string
 * becomes a path or a user.
 *
 * - {@linkcode parseInboundPath} / {@linkcode checkInboundPath}: the strict
 *   parser for every path arriving from outside (sync, jobs, datasets), and
 *   {@linkcode resolveInside} to join a parsed path onto a datasite folder.
 * - {@linkcode parseQueryPath}: the lenient parser for permission queries.
 * - {@linkcode findCaseCollision}, {@linkcode checkCaseCollision},
 *   {@linkcode isCaseInsensitiveFs}: refusing names that differ only by case.
 * - {@linkcode parseIdentity} / {@linkcode isIdentity}: users as emails.
 * @module
 */
export * from "./inbound.ts";
export * from "./query.ts";
export * from "./case.ts";
export * from "./identity.ts";
