/**
 * Parses the config.
 * Read the spec first now
 * Returns null when empty.
 */
class P {
  int x;
}
