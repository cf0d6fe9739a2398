/* confdefs.h */
#define PACKAGE_NAME "edgelab"
#define PACKAGE_TARNAME "edgelab"
#define PACKAGE_VERSION "0.1.0"
#define PACKAGE_STRING "edgelab 0.1.0"
#define PACKAGE_BUGREPORT ""
#define PACKAGE_URL ""
#define PACKAGE "edgelab"
#define VERSION "0.1.0"
