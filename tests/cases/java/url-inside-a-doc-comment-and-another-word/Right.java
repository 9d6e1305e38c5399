/**
 * Parses the config.
 * Read the spec first now always
 * Returns null when empty.
 */
class P {
  int x;
}
