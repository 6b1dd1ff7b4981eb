// The same suite over HTTP/1.1, with NodeHttpHandler from @smithy/node-http-handler.
import { defineSuite } from "./lib/suite.mjs";

defineSuite("h1");
