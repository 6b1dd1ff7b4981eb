// The client's default request handler: NodeHttp2Handler, i.e. HTTP/2 with prior knowledge (h2c) on http://.
import { defineSuite } from "./lib/suite.mjs";

defineSuite("h2");
