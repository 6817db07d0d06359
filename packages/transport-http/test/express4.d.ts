// `express4` is npm:express@4 (a devDependency), for testing the middleware under both majors.
// Its API surface used here is the same as express 5's.
declare module 'express4' {
  import express = require('express');
  export = express;
}
