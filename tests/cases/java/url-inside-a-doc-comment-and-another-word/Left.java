/**
 * Parses the config.
 * Read http://x.org the spec first now
 * Returns null when empty.
 */
class P {
  int x;
}
