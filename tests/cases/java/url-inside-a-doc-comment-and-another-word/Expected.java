/**
 * Parses the config.
 * Read http://x.org the spec first now always
 * Returns null when empty.
 */
class P {
  int x;
}
