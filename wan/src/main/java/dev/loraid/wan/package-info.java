/** loraid wan module. */
package dev.loraid.wan;
