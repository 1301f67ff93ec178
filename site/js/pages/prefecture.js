// Home of a préfecture agent: who is signed in, for which département. Card orders come later.
import { openSpace, showLoadError } from "../espace.js";

openSpace(["prefecture"]).catch(showLoadError);
